using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Policies;

public sealed record EffectivePolicy(Guid VersionId, int Version, ReturnPolicy Policy);

/// <summary>
/// Finds the policy version that judges an order and parses it once: versions never change, so a parsed
/// document is cached by version id for the life of the process.
/// </summary>
public sealed class PolicyBook
{
    /// <summary>
    /// Policy documents refuse unknown fields (a misspelt "window_dayz" must not be silently ignored) and null where the
    /// policy has no null (leave a field out to get its default).
    /// </summary>
    public static readonly JsonSerializerOptions StrictJson = new(Json.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
    };

    private readonly ConcurrentDictionary<Guid, ReturnPolicy> _parsed = new();

    public ReturnPolicy Parse(Guid versionId, string json) =>
        _parsed.GetOrAdd(versionId, _ => JsonSerializer.Deserialize<ReturnPolicy>(json, StrictJson)!);

    /// <summary>A version by id: from the cache, or read once.</summary>
    public async Task<ReturnPolicy> GetAsync(RetourDb db, Guid versionId, CancellationToken ct)
    {
        if (_parsed.TryGetValue(versionId, out var cached)) return cached;
        var json = await db.PolicyVersions.AsNoTracking().Where(p => p.Id == versionId).Select(p => p.DocumentJson).SingleAsync(ct);
        return Parse(versionId, json);
    }

    /// <summary>
    /// The newest version that applies to orders placed at <paramref name="placedAt"/>. A version applies from its
    /// EffectiveFrom; "all orders" versions start at the Unix epoch, so they cover every earlier order too.
    /// </summary>
    public async Task<EffectivePolicy?> ForOrderAsync(RetourDb db, DateTimeOffset placedAt, CancellationToken ct)
    {
        var row = await db.PolicyVersions.AsNoTracking()
                      .Where(p => p.EffectiveFrom <= placedAt)
                      .OrderByDescending(p => p.Version)
                      .Select(p => new { p.Id, p.Version, p.DocumentJson })
                      .FirstOrDefaultAsync(ct)
                  ?? await db.PolicyVersions.AsNoTracking().OrderBy(p => p.Version)
                      .Select(p => new { p.Id, p.Version, p.DocumentJson })
                      .FirstOrDefaultAsync(ct);
        return row is null ? null : new EffectivePolicy(row.Id, row.Version, Parse(row.Id, row.DocumentJson));
    }

    public async Task<(PolicyVersion Row, ReturnPolicy Policy)?> CurrentAsync(RetourDb db, CancellationToken ct)
    {
        var row = await db.PolicyVersions.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(ct);
        return row is null ? null : (row, Parse(row.Id, row.DocumentJson));
    }
}
