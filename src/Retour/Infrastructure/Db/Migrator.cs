using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Retour.Infrastructure.Db;

public sealed record SchemaScript(int Version, string Name, string Sql);

/// <summary>
/// Applies the versioned SQL scripts in Infrastructure/Db/Migrations/{provider}/NNNN_name.sql, each in its own
/// transaction, and records them in schema_versions. EF's design-time tools are not available here, so the
/// scripts are written by hand; SchemaTests prove that a migrated database matches the EF model.
/// </summary>
public sealed partial class Migrator(RetourSettings settings, ILogger<Migrator> log)
{
    // Any stable number: PostgreSQL serialises concurrent migrators (two nodes starting at once) on it.
    private const long AdvisoryLockKey = 7_263_500_190;

    public static IReadOnlyList<SchemaScript> Scripts(DbProvider provider)
    {
        var folder = provider == DbProvider.Postgres ? "postgres" : "sqlite";
        var asm = Assembly.GetExecutingAssembly();
        var scripts = new List<SchemaScript>();
        foreach (var name in asm.GetManifestResourceNames())
        {
            var m = ScriptName().Match(name);
            if (!m.Success || m.Groups["folder"].Value != folder) continue;
            using var stream = asm.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new SchemaScript(int.Parse(m.Groups["version"].Value), m.Groups["name"].Value, reader.ReadToEnd()));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
            if (scripts[i].Version != i + 1)
                throw new InvalidOperationException($"Migration versions must run 1, 2, 3… without gaps; found {scripts[i].Version} at position {i + 1}.");
        return scripts;
    }

    public static int LatestVersion(DbProvider provider) => Scripts(provider).Count;

    /// <summary>Brings the schema to <paramref name="target"/> (default: the latest). Returns how many scripts ran.</summary>
    public async Task<int> MigrateAsync(int? target = null, CancellationToken ct = default)
    {
        var scripts = Scripts(settings.Provider).Where(s => s.Version <= (target ?? int.MaxValue)).ToList();
        await using var conn = await OpenAsync(ct);
        if (settings.Provider == DbProvider.Postgres) await ExecAsync(conn, null, $"SELECT pg_advisory_lock({AdvisoryLockKey})", ct);
        try
        {
            await ExecAsync(conn, null, settings.Provider == DbProvider.Postgres
                ? "CREATE TABLE IF NOT EXISTS schema_versions (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
                : "CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", ct);
            var current = await CurrentVersionAsync(conn, ct);
            var ran = 0;
            foreach (var script in scripts.Where(s => s.Version > current))
            {
                log.LogInformation("Applying schema version {Version} ({Name})", script.Version, script.Name);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await ExecAsync(conn, tx, script.Sql, ct);
                await using (var cmd = conn.CreateCommand())
                {
                    cmd.Transaction = tx;
                    cmd.CommandText = "INSERT INTO schema_versions (version, name, applied_at) VALUES (@v, @n, @t)";
                    AddParam(cmd, "@v", script.Version);
                    AddParam(cmd, "@n", script.Name);
                    AddParam(cmd, "@t", settings.Provider == DbProvider.Postgres ? DateTimeOffset.UtcNow : DateTimeOffset.UtcNow.ToString("O"));
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                ran++;
            }
            return ran;
        }
        finally
        {
            if (settings.Provider == DbProvider.Postgres) await ExecAsync(conn, null, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    public async Task<int> CurrentVersionAsync(CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        return await CurrentVersionAsync(conn, ct);
    }

    private static async Task<int> CurrentVersionAsync(DbConnection conn, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_versions";
        try { return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct)); }
        catch (DbException) { return 0; }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection conn;
        if (settings.Provider == DbProvider.Postgres) conn = new NpgsqlConnection(settings.ConnectionString);
        else
        {
            var csb = new SqliteConnectionStringBuilder(settings.ConnectionString);
            var dir = Path.GetDirectoryName(Path.GetFullPath(csb.DataSource));
            if (csb.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            conn = new SqliteConnection(settings.ConnectionString);
        }
        await conn.OpenAsync(ct);
        if (settings.Provider == DbProvider.Sqlite)
            await ExecAsync(conn, null, "PRAGMA journal_mode=WAL", ct); // readers never wait for the writer
        return conn;
    }

    private static async Task ExecAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static void AddParam(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    [GeneratedRegex(@"^migrations/(?<folder>sqlite|postgres)/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ScriptName();
}
