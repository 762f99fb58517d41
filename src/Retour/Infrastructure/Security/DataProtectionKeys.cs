using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Security;

/// <summary>An ASP.NET Core Data Protection key, kept in the database so every instance (and every restart) shares it.</summary>
public sealed class DataProtectionKey
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string FriendlyName { get; init; }
    public required string Xml { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<DataProtectionKey>
    {
        public void Configure(EntityTypeBuilder<DataProtectionKey> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.FriendlyName).HasMaxLength(200);
        }
    }
}

/// <summary>
/// Data Protection's key ring in Retour's own database: antiforgery tokens, portal cookies and the signed status links
/// stay valid across restarts and across instances in scaled mode, with no key folder to share or back up.
/// </summary>
public sealed class DbXmlRepository(IServiceScopeFactory scopes, TimeProvider clock) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        return db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.CreatedAt).Select(k => k.Xml).ToList().Select(XElement.Parse).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        db.DataProtectionKeys.Add(new DataProtectionKey
        {
            FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting), CreatedAt = clock.GetUtcNow(),
        });
        db.SaveChanges();
    }
}
