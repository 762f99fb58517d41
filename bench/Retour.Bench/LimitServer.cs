using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Retour.Bench;

/// <summary>
/// The ceiling: an endpoint on the same web server stack that reads a small JSON body and does one INSERT into the same
/// database, nothing else. Retour's figures are reported as a share of this one.
/// </summary>
public static class LimitServer
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(o.Urls);
        var app = builder.Build();
        if (o.Provider == "postgres")
        {
            var source = NpgsqlDataSource.Create(o.Db);
            await using (var c = await source.OpenConnectionAsync())
            await using (var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_limit (id uuid PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL)", c))
                await cmd.ExecuteNonQueryAsync();
            app.MapPost("/limit", async (HttpRequest req) =>
            {
                using var doc = await JsonDocument.ParseAsync(req.Body);
                var id = Guid.CreateVersion7();
                await using var cmd = source.CreateCommand("INSERT INTO bench_limit (id, payload, created_at) VALUES ($1, $2, $3)");
                cmd.Parameters.Add(new NpgsqlParameter { Value = id });
                cmd.Parameters.Add(new NpgsqlParameter { Value = doc.RootElement.GetRawText() });
                cmd.Parameters.Add(new NpgsqlParameter { Value = DateTimeOffset.UtcNow });
                await cmd.ExecuteNonQueryAsync();
                return Results.Created($"/limit/{id}", new { id });
            });
        }
        else
        {
            await using (var c = new SqliteConnection(o.Db))
            {
                await c.OpenAsync();
                await using var cmd = c.CreateCommand();
                cmd.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS bench_limit (id TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL)";
                await cmd.ExecuteNonQueryAsync();
            }
            app.MapPost("/limit", async (HttpRequest req) =>
            {
                using var doc = await JsonDocument.ParseAsync(req.Body);
                var id = Guid.CreateVersion7();
                await using var c = new SqliteConnection(o.Db);
                await c.OpenAsync();
                await using var cmd = c.CreateCommand();
                cmd.CommandText = "INSERT INTO bench_limit (id, payload, created_at) VALUES ($id, $p, $t)";
                cmd.Parameters.AddWithValue("$id", id.ToString());
                cmd.Parameters.AddWithValue("$p", doc.RootElement.GetRawText());
                cmd.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await cmd.ExecuteNonQueryAsync();
                return Results.Created($"/limit/{id}", new { id });
            });
        }
        app.MapGet("/health", () => "ok");
        await app.RunAsync();
        return 0;
    }
}
