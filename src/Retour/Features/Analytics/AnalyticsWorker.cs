using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Retour.Core.Analytics;
using Retour.Core.Returns;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Analytics;

/// <summary>
/// The outbox side: every event that can change a return's or an order's numbers queues that return or order for
/// recomputation (one cheap upsert). Many events about one return in a short time become one recomputation.
/// </summary>
public sealed class AnalyticsOnEvents(TimeProvider clock) : IOutboxHandler
{
    public string Name => "analytics";

    public IReadOnlyCollection<string> Types { get; } =
    [
        "return.requested", .. Codes.All<ReturnStatus>().Where(s => s != "requested").Select(s => "return." + s),
        "refund.issued", "disposition.confirmed", "order.created", "order.updated", Warehouses.InspectReturn.UnitsInspectedEvent,
    ];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        var (kind, field) = message.Type.StartsWith("order.", StringComparison.Ordinal) ? ("order", "order_id") : ("return", "return_id");
        if (!root.TryGetProperty(field, out var idElement) || !idElement.TryGetGuid(out var id)) return;
        var now = clock.GetUtcNow();
        await AnalyticsQueue.EnqueueAsync(db, message.MerchantId, kind, id, now, ct);
        // A changed order (its address, its delivery) changes the facts of its returns too.
        if (message.Type == "order.updated")
            foreach (var returnId in await db.Returns.AsNoTracking().Where(r => r.OrderId == id).Select(r => r.Id).ToListAsync(ct))
                await AnalyticsQueue.EnqueueAsync(db, message.MerchantId, "return", returnId, now, ct);
    }
}

public static class AnalyticsQueue
{
    /// <summary>Queues a return or order; if it is queued already (even while a worker holds it), its version moves so it is done again.</summary>
    public static async Task EnqueueAsync(RetourDb db, Guid merchantId, string kind, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        var v = new SqlValues(db.IsPostgres);
        // SQLite has one writer: outside a transaction, this write queues for the writer slot like every other.
        using (db.Database.CurrentTransaction is null ? await db.WriteSlotAsync(ct) : default)
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO analytics_pending (entity_id, merchant_id, kind, available_at, version) VALUES ({0}, {1}, {2}, {3}, 0)
                ON CONFLICT (entity_id) DO UPDATE SET version = analytics_pending.version + 1, available_at = excluded.available_at
                """, [v.Id(id), v.Id(merchantId), kind, v.Time(now)], ct);
    }
}

/// <summary>
/// Drains <see cref="AnalyticsPending"/> in batches: for each return or order it reads the current state, builds the
/// fact, and writes new-minus-old into <see cref="AnalyticsRollup"/> with the new fact, and recounts the returns'
/// shoppers (<see cref="ShopperProfiles"/>), in one transaction per merchant. A crash leaves the rows queued (they are deleted in that transaction); on PostgreSQL the fact rows are
/// locked, so two workers cannot count one change twice.
/// </summary>
public sealed class AnalyticsWorker(IServiceScopeFactory scopes, FactLoader loader, RetourSettings settings, TimeProvider clock, ILogger<AnalyticsWorker> log)
    : PollingHost(settings, log)
{
    public const int BatchSize = 500;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    /// <summary>
    /// One batch at a time per database in this process (the background loop and an explicit drain may both run); hosts
    /// on other databases in the same process (the tests) do not wait for each other.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> OneAtATimePerDb = new();
    private SemaphoreSlim OneAtATime => OneAtATimePerDb.GetOrAdd(Settings.ConnectionString, _ => new SemaphoreSlim(1, 1));

    protected override string What => "Analytics rollups";
    protected override TimeSpan Idle => TimeSpan.FromSeconds(1);
    protected override Task<bool> RunOnceAsync(CancellationToken stop) => DrainBatchAsync(stop).ContinueWith(t => t.Result > 0, stop);

    /// <summary>Processes everything queued and due now; returns how many facts it recomputed.</summary>
    public async Task<int> DrainAsync(CancellationToken ct)
    {
        var total = 0;
        for (int n; (n = await DrainBatchAsync(ct)) > 0;) total += n;
        return total;
    }

    public async Task<int> DrainBatchAsync(CancellationToken ct)
    {
        await OneAtATime.WaitAsync(ct);
        try
        {
            List<AnalyticsPending> claimed;
            await using (var scope = scopes.CreateAsyncScope())
                claimed = await ClaimAsync(scope.ServiceProvider.GetRequiredService<RetourDb>(), ct);
            foreach (var group in claimed.GroupBy(p => p.MerchantId))
                await ProcessAsync(group.Key, [.. group], ct);
            return claimed.Count;
        }
        finally { OneAtATime.Release(); }
    }

    private async Task<List<AnalyticsPending>> ClaimAsync(RetourDb db, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var v = new SqlValues(db.IsPostgres);
        var lockClause = db.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        var sql = $$"""
            UPDATE analytics_pending SET available_at = {0}
            WHERE entity_id IN (SELECT entity_id FROM analytics_pending WHERE available_at <= {1} ORDER BY available_at LIMIT {{BatchSize}} {{lockClause}})
            RETURNING *
            """;
        using (await db.WriteSlotAsync(ct))
            return await db.AnalyticsPending.FromSqlRaw(sql, v.Time(now + Lease), v.Time(now)).AsNoTracking().ToListAsync(ct);
    }

    private async Task ProcessAsync(Guid merchantId, List<AnalyticsPending> items, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        Dictionary<Guid, ReturnFact> returns = [];
        Dictionary<Guid, OrderFact> orders = [];
        async Task LoadAsync()
        {
            returns = await loader.ReturnsAsync(db, merchantId, [.. items.Where(i => i.Kind == "return").Select(i => i.EntityId)], ct);
            orders = await loader.OrdersAsync(db, merchantId, [.. items.Where(i => i.Kind == "order").Select(i => i.EntityId)], ct);
        }
        // SQLite: the reads come first and hold up no writer; only the writes take the writer slot. A change committed
        // after these reads has bumped its queue row's version, so the row survives the delete below and is done again.
        if (!db.IsPostgres) await LoadAsync();
        using (await db.WriteSlotAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var ids = items.Select(i => i.EntityId).ToList();
            var stored = await LockFactsAsync(db, ids, ct);
            // PostgreSQL: read under the entity locks, so two workers holding one entity in turn see each other's facts.
            if (db.IsPostgres) await LoadAsync();
            var delta = new RollupCube();
            var now = clock.GetUtcNow();
            foreach (var item in items)
            {
                var old = stored.GetValueOrDefault(item.EntityId);
                if (old is not null) FactJson.Contribute(old, delta, -1);
                (int Day, string Json)? next = null;
                if (item.Kind == "return" && returns.TryGetValue(item.EntityId, out var rf))
                {
                    Rollup.Contribute(rf, delta, 1);
                    next = (rf.Day.DayNumber, FactJson.Write(rf));
                }
                else if (item.Kind == "order" && orders.TryGetValue(item.EntityId, out var of))
                {
                    Rollup.Contribute(of, delta, 1);
                    next = (of.Day.DayNumber, FactJson.Write(of));
                }
                if (next is { } n)
                {
                    if (old is null) db.AnalyticsFacts.Add(new AnalyticsFact { EntityId = item.EntityId, Kind = item.Kind, Day = n.Day, Json = n.Json, UpdatedAt = now });
                    else { old.Day = n.Day; old.Json = n.Json; old.UpdatedAt = now; }
                }
                else if (old is not null) db.AnalyticsFacts.Remove(old);
            }
            await RollupWriter.ApplyAsync(db, merchantId, delta, ct);
            await ShopperProfiles.RefreshAsync(db, merchantId, [.. items.Where(i => i.Kind == "return").Select(i => i.EntityId)], now, ct);
            await db.SaveChangesAsync(ct);
            foreach (var version in items.GroupBy(i => i.Version))
            {
                var done = version.Select(i => i.EntityId).ToList();
                var v = version.Key;
                await db.AnalyticsPending.Where(p => done.Contains(p.EntityId) && p.Version == v).ExecuteDeleteAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
    }

    private static async Task<Dictionary<Guid, AnalyticsFact>> LockFactsAsync(RetourDb db, List<Guid> ids, CancellationToken ct)
    {
        // On PostgreSQL another worker may hold the same entities (a version bump makes a queued row due again): a
        // transaction lock per entity, taken in one order, serialises them, including entities that have no fact yet.
        if (db.IsPostgres)
            await db.Database.ExecuteSqlRawAsync(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(id::text, 24) AS h FROM unnest({0}) AS id ORDER BY 1) AS locks",
                [ids.ToArray()], ct);
        var q = db.IsPostgres
            ? db.AnalyticsFacts.FromSqlRaw("SELECT * FROM analytics_facts WHERE entity_id = ANY({0}) FOR UPDATE", ids.ToArray())
            : db.AnalyticsFacts.Where(f => ids.Contains(f.EntityId));
        return await q.ToDictionaryAsync(f => f.EntityId, ct);
    }
}

/// <summary>Facts as stored (compact JSON with the shared options) and their contributions.</summary>
public static class FactJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static string Write(ReturnFact f) => JsonSerializer.Serialize(f, Options);
    public static string Write(OrderFact f) => JsonSerializer.Serialize(f, Options);
    public static ReturnFact ReadReturn(string json) => JsonSerializer.Deserialize<ReturnFact>(json, Options)!;
    public static OrderFact ReadOrder(string json) => JsonSerializer.Deserialize<OrderFact>(json, Options)!;

    public static void Contribute(AnalyticsFact stored, IRollupSink sink, int sign)
    {
        if (stored.Kind == "return") Rollup.Contribute(ReadReturn(stored.Json), sink, sign);
        else Rollup.Contribute(ReadOrder(stored.Json), sink, sign);
    }
}

/// <summary>Adds a delta cube to the stored rollups: multi-row upserts that add to what is there.</summary>
public static class RollupWriter
{
    private static readonly string[] Columns =
    [
        "returns", "units", "value", "refund_total", "fees_total", "recovered_value", "store_credit", "exchanges", "auto_approved",
        "cycle_count", "cycle_hours", "small_units", "large_units", "quality_units", "used_units", "orders", "sold_units", "sold_value",
    ];

    private static object[] Values(in Measures m) =>
    [
        m.Returns, m.Units, AnalyticsRollup.Money(m.Value), AnalyticsRollup.Money(m.RefundTotal), AnalyticsRollup.Money(m.FeesTotal),
        AnalyticsRollup.Money(m.RecoveredValue), m.StoreCredit, m.Exchanges, m.AutoApproved, m.CycleCount, m.CycleHours, m.SmallUnits,
        m.LargeUnits, m.QualityUnits, m.UsedUnits, m.Orders, m.SoldUnits, AnalyticsRollup.Money(m.SoldValue),
    ];

    /// <summary>
    /// Adds a large cube (a bulk load): on PostgreSQL, binary COPY into a temporary table and one INSERT … ON CONFLICT that
    /// adds; on SQLite, the same upserts as <see cref="ApplyAsync"/>. Runs in the caller's transaction. Returns the cells written.
    /// </summary>
    public static async Task<long> MergeAsync(RetourDb db, Guid merchantId, RollupCube cube, CancellationToken ct)
    {
        if (!db.IsPostgres)
        {
            await ApplyAsync(db, merchantId, cube, ct);
            return cube.Cells.Count;
        }
        await db.Database.ExecuteSqlRawAsync(
            "CREATE TEMP TABLE IF NOT EXISTS rollup_load (LIKE analytics_rollups) ON COMMIT DELETE ROWS", ct);
        var conn = (Npgsql.NpgsqlConnection)db.Database.GetDbConnection();
        var columns = "merchant_id, scope, dim, day, key, " + string.Join(", ", Columns);
        long n = 0;
        await using (var importer = await conn.BeginBinaryImportAsync($"COPY rollup_load ({columns}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var (k, m) in cube.NonZero)
            {
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(merchantId, NpgsqlTypes.NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(k.Scope, NpgsqlTypes.NpgsqlDbType.Text, ct);
                await importer.WriteAsync(k.Dim, NpgsqlTypes.NpgsqlDbType.Text, ct);
                await importer.WriteAsync(k.Day.DayNumber, NpgsqlTypes.NpgsqlDbType.Integer, ct);
                await importer.WriteAsync(k.Key, NpgsqlTypes.NpgsqlDbType.Text, ct);
                foreach (var v in Values(m))
                    if (v is double d) await importer.WriteAsync(d, NpgsqlTypes.NpgsqlDbType.Double, ct);
                    else await importer.WriteAsync((long)v, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
                n++;
            }
            await importer.CompleteAsync(ct);
        }
        var update = string.Join(", ", Columns.Select(c => $"{c} = analytics_rollups.{c} + excluded.{c}"));
        // Column names are constants of this class; nothing from outside goes into the text.
        var merge = $"INSERT INTO analytics_rollups ({columns}) SELECT {columns} FROM rollup_load ON CONFLICT (merchant_id, scope, dim, day, key) DO UPDATE SET {update}";
        await db.Database.ExecuteSqlRawAsync(merge, ct);
        await db.Database.ExecuteSqlRawAsync("TRUNCATE rollup_load", ct);
        return n;
    }

    public static async Task ApplyAsync(RetourDb db, Guid merchantId, RollupCube delta, CancellationToken ct)
    {
        // In one order, so two workers updating overlapping cells wait for each other instead of deadlocking.
        var cells = delta.NonZero.OrderBy(c => c.Key.Scope, StringComparer.Ordinal).ThenBy(c => c.Key.Dim, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Day).ThenBy(c => c.Key.Key, StringComparer.Ordinal).ToList();
        if (!db.IsPostgres)
        {
            await UpsertEachAsync(db, merchantId, cells, ct);
            return;
        }
        const int perStatement = 200;
        var v = new SqlValues(db.IsPostgres);
        var update = string.Join(", ", Columns.Select(c => $"{c} = analytics_rollups.{c} + excluded.{c}"));
        for (var start = 0; start < cells.Count; start += perStatement)
        {
            var chunk = cells.Skip(start).Take(perStatement).ToList();
            var sql = new StringBuilder($"INSERT INTO analytics_rollups (merchant_id, scope, dim, day, key, {string.Join(", ", Columns)}) VALUES ");
            var args = new List<object>();
            for (var i = 0; i < chunk.Count; i++)
            {
                var (k, m) = (chunk[i].Key, chunk[i].Value);
                object[] row = [v.Id(merchantId), k.Scope, k.Dim, k.Day.DayNumber, k.Key, .. Values(m)];
                sql.Append(i == 0 ? "(" : ", (");
                for (var j = 0; j < row.Length; j++)
                {
                    sql.Append(j == 0 ? "" : ", ").Append('{').Append(args.Count).Append('}');
                    args.Add(row[j]);
                }
                sql.Append(')');
            }
            sql.Append(" ON CONFLICT (merchant_id, scope, dim, day, key) DO UPDATE SET ").Append(update);
            await db.Database.ExecuteSqlRawAsync(sql.ToString(), args, ct);
        }
    }

    /// <summary>
    /// SQLite: one prepared single-row upsert, run per cell. In-process calls cost microseconds, while a statement with
    /// thousands of parameters costs far more to bind (the multi-row form took 70 ms per 200 cells).
    /// </summary>
    private static async Task UpsertEachAsync(RetourDb db, Guid merchantId, List<KeyValuePair<RollupKey, Measures>> cells, CancellationToken ct)
    {
        if (cells.Count == 0) return;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = db.Database.GetDbConnection().CreateCommand();
            cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            string[] keys = ["merchant_id", "scope", "dim", "day", "key"];
            var all = keys.Concat(Columns).ToArray();
            var update = string.Join(", ", Columns.Select(c => $"{c} = analytics_rollups.{c} + excluded.{c}"));
            cmd.CommandText = $"INSERT INTO analytics_rollups ({string.Join(", ", all)}) VALUES ({string.Join(", ", all.Select((_, i) => "@p" + i))}) " +
                $"ON CONFLICT (merchant_id, scope, dim, day, key) DO UPDATE SET {update}";
            for (var i = 0; i < all.Length; i++) SqlValues.Add(cmd, "@p" + i, null);
            await cmd.PrepareAsync(ct);
            var merchant = new SqlValues(false).Id(merchantId);
            foreach (var (k, m) in cells)
            {
                object[] row = [merchant, k.Scope, k.Dim, k.Day.DayNumber, k.Key, .. Values(m)];
                for (var i = 0; i < row.Length; i++) cmd.Parameters[i].Value = row[i];
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }
}
