using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Retour.Infrastructure.Db;

/// <summary>
/// Writes many new rows of a mapped entity type fast, with the table, columns and value conversions taken from the EF
/// model (so it cannot drift from the schema): PostgreSQL's binary COPY, or on SQLite prepared INSERTs in the caller's
/// transaction. For bulk loads such as the demo generator; it bypasses change tracking, the tenant check and the outbox.
/// </summary>
public static class BulkCopy
{
    private sealed record Column(string Name, Func<object, object?> Read, NpgsqlDbType Type, RelationalTypeMapping Mapping);

    private static Column[] Columns(RetourDb db, Type clr, out string table)
    {
        var entity = db.Model.FindEntityType(clr) ?? throw new InvalidOperationException($"{clr.Name} is not mapped.");
        table = entity.GetTableName()!;
        var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
        var postgres = db.IsPostgres;
        return [.. entity.GetProperties().Select(p =>
        {
            var getter = p.GetGetter();
            var mapping = (RelationalTypeMapping)p.GetTypeMapping();
            var converter = mapping.Converter;
            Func<object, object?> read = converter is null
                ? e => getter.GetClrValue(e)
                : e => getter.GetClrValue(e) is { } v ? converter.ConvertToProvider(v) : null;
            return new Column(p.GetColumnName(store)!, read, postgres ? TypeOf(p.GetColumnType()) : NpgsqlDbType.Unknown, mapping);
        })];
    }

    private static NpgsqlDbType TypeOf(string storeType) => storeType.Split('(')[0].Trim() switch
    {
        "uuid" => NpgsqlDbType.Uuid,
        "timestamp with time zone" => NpgsqlDbType.TimestampTz,
        "numeric" => NpgsqlDbType.Numeric,
        "integer" => NpgsqlDbType.Integer,
        "bigint" => NpgsqlDbType.Bigint,
        "smallint" => NpgsqlDbType.Smallint,
        "boolean" => NpgsqlDbType.Boolean,
        "double precision" => NpgsqlDbType.Double,
        "date" => NpgsqlDbType.Date,
        "text" or "character varying" => NpgsqlDbType.Text,
        var other => throw new NotSupportedException($"BulkCopy does not know the column type '{other}'."),
    };

    public static async Task<long> WriteAsync<T>(RetourDb db, IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        if (rows.Count == 0) return 0;
        var columns = Columns(db, typeof(T), out var table);
        await db.Database.OpenConnectionAsync(ct);
        var conn = db.Database.GetDbConnection();
        if (conn is NpgsqlConnection pg)
        {
            var copy = $"COPY {table} ({string.Join(", ", columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)";
            await using var importer = await pg.BeginBinaryImportAsync(copy, ct);
            foreach (var row in rows)
            {
                await importer.StartRowAsync(ct);
                foreach (var c in columns)
                {
                    var v = c.Read(row);
                    if (v is null) await importer.WriteNullAsync(ct);
                    else await importer.WriteAsync(v is DateTimeOffset t ? t.ToUniversalTime() : v, c.Type, ct);
                }
            }
            return (long)await importer.CompleteAsync(ct);
        }
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var sql = new StringBuilder($"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => "\"" + c.Name + "\""))}) VALUES (");
        for (var i = 0; i < columns.Length; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append("@p").Append(i);
            // The mapping configures the parameter as EF would (SQLite keeps ids and decimals as text).
            cmd.Parameters.Add(columns[i].Mapping.CreateParameter(cmd, "@p" + i, null));
        }
        cmd.CommandText = sql.Append(')').ToString();
        await cmd.PrepareAsync(ct);
        long n = 0;
        foreach (var row in rows)
        {
            for (var i = 0; i < columns.Length; i++) ((DbParameter)cmd.Parameters[i]).Value = columns[i].Read(row) ?? DBNull.Value;
            n += await cmd.ExecuteNonQueryAsync(ct);
        }
        return n;
    }
}
