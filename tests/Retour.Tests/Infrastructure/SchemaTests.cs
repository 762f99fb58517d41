using System.Data.Common;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Infrastructure;

/// <summary>
/// The hand-written migrations must build exactly the schema the EF model describes. The test builds one database
/// with the migrations and one with EF's own EnsureCreated, then compares their catalogues: tables, columns and
/// their types, nullability and defaults, keys, indexes (with uniqueness and filters) and foreign keys.
/// </summary>
public sealed class SchemaTests
{
    private static RetourSettings Settings(string connection) => RetourSettings.From(new ConfigurationBuilder().AddInMemoryCollection(
        new Dictionary<string, string?> { ["RETOUR_DB_PROVIDER"] = TestDb.ProviderSetting, ["RETOUR_DB"] = connection }).Build());

    [Fact]
    public async Task MigratedDatabase_MatchesTheEfModel()
    {
        var migrated = TestDb.NewDatabase("schema_m");
        var modelled = TestDb.NewDatabase("schema_e");
        var ran = await new Migrator(Settings(migrated), NullLogger<Migrator>.Instance).MigrateAsync();
        Assert.Equal(Migrator.LatestVersion(Settings(migrated).Provider), ran);
        await using (var db = NewContext(modelled)) await db.Database.EnsureCreatedAsync();

        var expected = await Catalogue(modelled);
        var actual = await Catalogue(migrated);
        Assert.NotEmpty(expected);
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"The migrations and the EF model disagree.\nIn the model only:\n  {string.Join("\n  ", missing)}\nIn the migrations only:\n  {string.Join("\n  ", extra)}");
    }

    [Fact]
    public async Task Migrating_IsVersioned_AndRunningItAgainChangesNothing()
    {
        var connection = TestDb.NewDatabase("schema_v");
        var migrator = new Migrator(Settings(connection), NullLogger<Migrator>.Instance);
        var latest = Migrator.LatestVersion(Settings(connection).Provider);
        Assert.Equal(latest, await migrator.MigrateAsync());
        Assert.Equal(0, await migrator.MigrateAsync());
        Assert.Equal(latest, await migrator.CurrentVersionAsync());
    }

    /// <summary>
    /// The upgrade procedure (docs/operations.md) on a database with data: made and filled at the previous schema version
    /// by a host that does not migrate, then migrated, then served by the new build. Nothing is lost, and what the new
    /// version adds (schema 15's shopper profiles) is filled from the old data.
    /// </summary>
    [Fact]
    public async Task UpgradingADatabaseWithData_FromThePreviousVersion_KeepsItAndFillsWhatIsNew()
    {
        var provider = Settings("x").Provider;
        var latest = Migrator.LatestVersion(provider);
        var connection = TestDb.NewDatabase("schema_d");
        Assert.Equal(latest - 1, await new Migrator(Settings(connection), NullLogger<Migrator>.Instance).MigrateAsync(latest - 1));
        TestMerchant m;
        var rmas = new List<string>();
        await using (var old = new ConfiguredRetourApp(connection, new Dictionary<string, string?> { ["RETOUR_MIGRATE_ON_START"] = "false", ["RETOUR_OUTBOX_RELAY"] = "false" }))
        {
            m = await old.NewMerchantAsync();
            for (var i = 0; i < 3; i++)
            {
                (await m.Client.Post("/api/v1/orders", Orders.Delivered($"UP-{i}"))).Expect(HttpStatusCode.Created);
                rmas.Add((await m.Client.Post("/api/v1/returns", Orders.ReturnOf($"UP-{i}"))).Expect(HttpStatusCode.Created).Str("rma"));
            }
            Assert.Equal(latest - 1, await new Migrator(Settings(connection), NullLogger<Migrator>.Instance).CurrentVersionAsync());
        }

        Assert.Equal(1, await new Migrator(Settings(connection), NullLogger<Migrator>.Instance).MigrateAsync());
        await using var upgraded = new ConfiguredRetourApp(connection);
        var client = upgraded.Client(m.ApiKey);
        var ready = (await client.Get("/health/ready")).Expect(HttpStatusCode.OK);
        Assert.Contains($"schema version {latest}", ready.Str("checks.schema.description"));
        var listed = (await client.Get("/api/v1/returns?limit=10")).Expect(HttpStatusCode.OK)["data"]!.AsArray().Select(r => r.Str("rma")).ToList();
        Assert.Equal(rmas.Order(), listed.Order());
        foreach (var rma in rmas) Assert.Equal("approved", (await client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK).Str("status"));
        var profile = await upgraded.WithDb(m.Id, db => db.AnalyticsShoppers.SingleAsync(s => s.Email == "shopper@example.com"));
        Assert.Equal(3, profile.Returns);
        // And the upgraded database keeps working: a new return on an old order's other unit.
        (await client.Post("/api/v1/returns", Orders.ReturnOf("UP-0"))).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task UpgradingFromEveryEarlierVersion_EndsAtTheSameSchemaAsAFreshDatabase()
    {
        var provider = Settings("x").Provider;
        var fresh = TestDb.NewDatabase("schema_f");
        await new Migrator(Settings(fresh), NullLogger<Migrator>.Instance).MigrateAsync();
        var expected = await Catalogue(fresh);
        for (var from = 1; from < Migrator.LatestVersion(provider); from++)
        {
            var old = TestDb.NewDatabase($"schema_u{from}");
            var migrator = new Migrator(Settings(old), NullLogger<Migrator>.Instance);
            Assert.Equal(from, await migrator.MigrateAsync(from));
            await migrator.MigrateAsync();
            Assert.Equal(expected, await Catalogue(old));
        }
    }

    [Fact]
    public void BothProviders_HaveTheSameVersions() =>
        Assert.Equal(Migrator.Scripts(DbProvider.Sqlite).Select(s => (s.Version, s.Name)), Migrator.Scripts(DbProvider.Postgres).Select(s => (s.Version, s.Name)));

    private static RetourDb NewContext(string connection)
    {
        var builder = new DbContextOptionsBuilder<RetourDb>();
        DbSetup.UseProvider(builder, Settings(connection));
        return new RetourDb(builder.Options, new TenantContext(), new OutboxSignal(), Settings(connection));
    }

    private static async Task<HashSet<string>> Catalogue(string connection)
    {
        await using DbConnection conn = TestDb.IsPostgres ? new NpgsqlConnection(connection) : new SqliteConnection(connection);
        await conn.OpenAsync();
        var rows = new HashSet<string>();
        var queries = TestDb.IsPostgres
            ? new[]
            {
                """
                SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                       || coalesce(' p' || numeric_precision || ',' || numeric_scale, '') || ' null=' || is_nullable || ' default=' || coalesce(column_default, '-')
                FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_versions'
                """,
                "SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_versions'",
                """
                SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'schema_versions'
                """,
            }
            : new[]
            {
                """
                SELECT 'column ' || m.name || '.' || c.name || ' ' || c.type || ' notnull=' || c."notnull" || ' default=' || coalesce(c.dflt_value, '-') || ' pk=' || c.pk
                FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_versions'
                """,
                """
                SELECT 'index ' || m.name || ' ' || il.name || ' unique=' || il."unique" || ' partial=' || il.partial || ' cols='
                       || (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) || ' sql=' || coalesce(replace(replace(i.sql, char(10), ' '), '  ', ' '), '-')
                FROM sqlite_master m JOIN pragma_index_list(m.name) il LEFT JOIN sqlite_master i ON i.name = il.name AND i.type = 'index'
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_versions'
                """,
                """
                SELECT 'fk ' || m.name || '.' || f."from" || ' -> ' || f."table" || '.' || f."to" || ' on delete ' || f.on_delete
                FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND m.name <> 'schema_versions'
                """,
            };
        foreach (var sql in queries)
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        }
        return rows;
    }
}
