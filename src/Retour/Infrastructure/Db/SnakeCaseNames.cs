using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;

namespace Retour.Infrastructure.Db;

/// <summary>snake_case tables and columns on both providers, so hand-written SQL and both databases read alike.</summary>
internal static class SnakeCaseNames
{
    public static void Apply(ModelBuilder mb, IReadOnlyDictionary<Type, string> tables)
    {
        foreach (var entity in mb.Model.GetEntityTypes().Cast<Microsoft.EntityFrameworkCore.Metadata.IMutableEntityType>())
        {
            if (!tables.TryGetValue(entity.ClrType, out var table))
                throw new InvalidOperationException($"Entity {entity.ClrType.Name} has no table name; add it to RetourDb.");
            entity.SetTableName(table);
            // Ids are made in code (UUIDv7), so a new row found through a navigation is an insert, never an update.
            foreach (var key in entity.GetKeys().SelectMany(k => k.Properties).Where(p => p.ClrType == typeof(Guid)))
                key.ValueGenerated = Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never;
            foreach (var property in entity.GetProperties())
                property.SetColumnName(Codes.SnakeCase(property.Name));
        }
    }
}
