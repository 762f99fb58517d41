using Microsoft.Data.Sqlite;
using Npgsql;

namespace Retour.Tests.Support;

/// <summary>
/// The database under test: SQLite always, PostgreSQL when scripts/test.sh runs the suite with
/// RETOUR_TEST_DB=postgres and RETOUR_TEST_PG pointing at its throwaway server. Each call makes a fresh, empty database.
/// </summary>
public static class TestDb
{
    public static string Provider => Environment.GetEnvironmentVariable("RETOUR_TEST_DB") ?? "sqlite";
    public static bool IsPostgres => Provider == "postgres";

    public static string NewDatabase(string prefix)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        if (IsPostgres)
        {
            var admin = Environment.GetEnvironmentVariable("RETOUR_TEST_PG")
                ?? throw new InvalidOperationException("RETOUR_TEST_DB=postgres needs RETOUR_TEST_PG (an admin connection string); run scripts/test.sh.");
            var name = $"t_{prefix}_{id}".ToLowerInvariant();
            using (var conn = new NpgsqlConnection(admin))
            {
                conn.Open();
                using var cmd = conn.CreateCommand();
                cmd.CommandText = $"CREATE DATABASE \"{name}\"";
                cmd.ExecuteNonQuery();
            }
            return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        }
        var dir = Path.Combine(Path.GetTempPath(), "retour-tests");
        Directory.CreateDirectory(dir);
        return new SqliteConnectionStringBuilder { DataSource = Path.Combine(dir, $"{prefix}-{id}.db") }.ConnectionString;
    }

    public static string ProviderSetting => IsPostgres ? "postgres" : "sqlite";
}
