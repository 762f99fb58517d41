using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using Npgsql;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Infrastructure;

/// <summary>A second Retour on a restored copy of the first one's database.</summary>
public sealed class RestoredApp(string connectionString) : RetourApp(connectionString);

/// <summary>
/// The backup and restore procedures of docs/operations.md, run as written: PostgreSQL with pg_dump -Fc and pg_restore
/// into an empty database, SQLite with VACUUM INTO (online, consistent) and a copy back. A Retour started on the copy
/// has the same returns, audit trail, API keys and analytics.
/// </summary>
public sealed class BackupRestoreTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task ABackup_RestoredIntoAnEmptyDatabase_ServesTheSameData()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("BK-1"))).Expect(HttpStatusCode.Created);
        var created = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("BK-1"), Guid.NewGuid().ToString())).Expect(HttpStatusCode.Created);
        var rma = created.Str("rma");
        // Wait for the analytics (the outbox's work) so the copy holds it too.
        JsonSummary? before = null;
        for (var i = 0; i < 100 && before?.Returns != 1; i++)
        {
            before = await SummaryAsync(m.Client);
            if (before.Returns != 1) await Task.Delay(200);
        }
        Assert.Equal(1, before!.Returns);
        var trail = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK)["timeline"]!.AsArray().Count;
        Assert.True(trail > 0);

        var dir = Path.Combine(Path.GetTempPath(), "retour-tests", "backup-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        string restored;
        if (TestDb.IsPostgres)
        {
            var source = new NpgsqlConnectionStringBuilder(app.ConnectionString);
            var file = Path.Combine(dir, "retour.dump");
            await RunAsync("pg_dump", "-Fc", "-h", source.Host!, "-p", source.Port.ToString(), "-U", source.Username!, "-d", source.Database!, "-f", file);
            restored = TestDb.NewDatabase("restored");
            var target = new NpgsqlConnectionStringBuilder(restored);
            await RunAsync("pg_restore", "--no-owner", "--exit-on-error", "-h", target.Host!, "-p", target.Port.ToString(), "-U", target.Username!, "-d", target.Database!, file);
        }
        else
        {
            var file = Path.Combine(dir, "retour-backup.db");
            await using (var conn = new SqliteConnection(app.ConnectionString))
            {
                await conn.OpenAsync();
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = "VACUUM INTO $file";
                cmd.Parameters.AddWithValue("$file", file);
                await cmd.ExecuteNonQueryAsync();
            }
            var copy = Path.Combine(dir, "retour.db");
            File.Copy(file, copy);
            restored = new SqliteConnectionStringBuilder { DataSource = copy }.ConnectionString;
        }

        await using var second = new RestoredApp(restored);
        var client = second.Client(m.ApiKey); // keys are stored as hashes: the same key works on the copy
        var back = (await client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal(created.Str("id"), back.Str("id"));
        Assert.Equal(trail, back["timeline"]!.AsArray().Count);
        Assert.Equal(before, await SummaryAsync(client));
        Assert.Equal("healthy", (await second.Client(null).Get("/health/ready")).Expect(HttpStatusCode.OK).Str("status"));
    }

    private sealed record JsonSummary(long Returns, string Value, long SoldUnits);

    private static async Task<JsonSummary> SummaryAsync(HttpClient client)
    {
        var s = (await client.Get("/api/v1/analytics/summary")).Expect(HttpStatusCode.OK);
        return new JsonSummary(s["returns"]!.GetValue<long>(), s.Str("value"), s["sold_units"]!.GetValue<long>());
    }

    private static async Task RunAsync(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{tool} exited {p.ExitCode}: {await err}");
    }
}
