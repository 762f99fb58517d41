using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Audit;

/// <summary>Append-only: who or what did what to which record, when, with the state before and after.</summary>
public sealed class AuditEvent : ITenantOwned
{
    public Guid Id { get; init; } = SequentialId.Next();
    public Guid MerchantId { get; set; }
    public required string EntityType { get; init; }
    public Guid EntityId { get; init; }
    public required string Action { get; init; }
    public string? FromState { get; init; }
    public string? ToState { get; init; }
    public required string ActorType { get; init; }
    public string? ActorId { get; init; }
    public string? ActorName { get; init; }
    public string? Reason { get; init; }
    public string? DataJson { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>An event without a state change, by <paramref name="actor"/>; the one way new code records one.</summary>
    public static AuditEvent Of(string entityType, Guid entityId, string action, Actor actor, DateTimeOffset at, string? reason = null, string? dataJson = null) => new()
    {
        EntityType = entityType, EntityId = entityId, Action = action, ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
        Reason = reason, DataJson = dataJson, OccurredAt = at,
    };

    internal sealed class Config : IEntityTypeConfiguration<AuditEvent>
    {
        public void Configure(EntityTypeBuilder<AuditEvent> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.EntityType).HasMaxLength(32);
            b.Property(x => x.Action).HasMaxLength(64);
            b.Property(x => x.FromState).HasMaxLength(32);
            b.Property(x => x.ToState).HasMaxLength(32);
            b.Property(x => x.ActorType).HasMaxLength(16);
            b.Property(x => x.ActorId).HasMaxLength(64);
            b.Property(x => x.ActorName).HasMaxLength(200);
            b.Property(x => x.Reason).HasMaxLength(2000);
            b.HasIndex(x => new { x.MerchantId, x.EntityId, x.OccurredAt });
        }
    }
}

/// <summary>Who acts: an API key, a staff user, a shopper or Retour itself.</summary>
public sealed record Actor(string Type, string? Id, string? Name)
{
    public static readonly Actor System = new("system", null, "Retour");

    public static Actor From(ClaimsPrincipal user) =>
        user.FindFirstValue(Auth.RetourClaims.KeyId) is { } keyId
            ? new Actor("api_key", keyId, user.FindFirstValue(Auth.RetourClaims.KeyName))
            : user.FindFirstValue(Auth.RetourClaims.UserId) is { } userId
                ? new Actor("staff", userId, user.FindFirstValue(Auth.RetourClaims.Email))
                : System;

    public string Label => Name ?? Type;
}
