using Microsoft.EntityFrameworkCore;
using Retour.Core.Analytics;
using Retour.Core.Warehouse;
using Retour.Infrastructure.Db;

namespace Retour.Features.Analytics;

/// <summary>
/// Keeps <see cref="AnalyticsShopper"/> exact: a shopper's row is recounted from their returns (and those returns' units
/// graded used) whenever one of their returns goes through the analytics queue, never added to, so a missed or repeated
/// event cannot make it drift.
/// </summary>
public static class ShopperProfiles
{
    /// <summary>
    /// Recounts the shoppers of these returns, in the caller's transaction (saved with the caller's SaveChanges). On
    /// PostgreSQL a transaction lock per shopper, taken in one order, makes two workers holding two returns of one
    /// shopper count in turn, each reading what the other committed; a shared lock on the merchant waits for a
    /// <see cref="RebuildAsync"/> in progress (which holds it exclusively) so neither overwrites the other with older numbers.
    /// </summary>
    public static async Task RefreshAsync(RetourDb db, Guid merchantId, IReadOnlyCollection<Guid> returnIds, DateTimeOffset now, CancellationToken ct)
    {
        if (returnIds.Count == 0) return;
        var ids = returnIds.ToList();
        var emails = await db.Returns.AsNoTracking().Where(r => ids.Contains(r.Id) && r.CustomerEmail != null)
            .Select(r => r.CustomerEmail!).Distinct().ToListAsync(ct);
        if (emails.Count == 0) return;
        if (db.IsPostgres)
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock_shared(hashtextextended({0}::text, 26))", [merchantId], ct);
            await db.Database.ExecuteSqlRawAsync(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(e, 25) AS h FROM unnest({0}) AS e ORDER BY 1) AS locks",
                [emails.ToArray()], ct);
        }
        var counts = await db.Returns.AsNoTracking().Where(r => r.CustomerEmail != null && emails.Contains(r.CustomerEmail))
            .GroupBy(r => r.CustomerEmail!).Select(g => new { g.Key, N = g.Count() }).ToDictionaryAsync(x => x.Key, x => (long)x.N, StringComparer.Ordinal, ct);
        // Each return of the shoppers who keep a history; only the totals of the few with more returns than that.
        var kept = counts.Where(c => c.Value <= ShopperHistory.MaxReturns).Select(c => c.Key).ToList();
        var returns = await db.Returns.AsNoTracking().Where(r => r.CustomerEmail != null && kept.Contains(r.CustomerEmail))
            .Select(r => new { Email = r.CustomerEmail!, r.Id, r.CreatedAt }).ToListAsync(ct);
        var all = returns.Select(r => r.Id).ToList();
        var used = await db.Inspections.AsNoTracking().Where(i => all.Contains(i.ReturnId) && i.Grade == Grade.Used)
            .GroupBy(i => i.ReturnId).Select(g => new { g.Key, N = g.Count() }).ToDictionaryAsync(x => x.Key, x => (long)x.N, ct);
        var stored = await db.AnalyticsShoppers.Where(s => emails.Contains(s.Email)).ToDictionaryAsync(s => s.Email, StringComparer.Ordinal, ct);
        AnalyticsShopper RowOf(string email)
        {
            if (!stored.TryGetValue(email, out var row)) db.AnalyticsShoppers.Add(stored[email] = row = new AnalyticsShopper { Email = email });
            row.Returns = counts[email];
            row.UpdatedAt = now;
            return row;
        }
        foreach (var g in returns.GroupBy(r => r.Email, StringComparer.Ordinal))
        {
            var row = RowOf(g.Key);
            row.UsedUnits = g.Sum(r => used.GetValueOrDefault(r.Id));
            row.LastReturnAt = g.Max(r => r.CreatedAt);
            row.History = ShopperHistory.Write(g.Select(r => (r.CreatedAt, used.GetValueOrDefault(r.Id))));
        }
        foreach (var email in counts.Keys.Except(kept, StringComparer.Ordinal))
        {
            var row = RowOf(email);
            row.LastReturnAt = await db.Returns.AsNoTracking().Where(r => r.CustomerEmail == email).OrderByDescending(r => r.CreatedAt).Select(r => r.CreatedAt).FirstAsync(ct);
            row.UsedUnits = await db.Inspections.AsNoTracking()
                .CountAsync(i => i.Grade == Grade.Used && db.Returns.Any(r => r.Id == i.ReturnId && r.CustomerEmail == email), ct);
            row.History = null;
        }
    }

    /// <summary>
    /// Recounts every shopper of a merchant in one statement (after a bulk load such as <c>retour demo generate</c>), in
    /// its own transaction. Returns the shoppers written.
    /// </summary>
    public static async Task<int> RebuildAsync(RetourDb db, Guid merchantId, DateTimeOffset now, CancellationToken ct)
    {
        var v = new SqlValues(db.IsPostgres);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Workers recounting one of this merchant's shoppers wait, and this waits for them (see RefreshAsync).
        if (db.IsPostgres) await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtextextended({0}::text, 26))", [merchantId], ct);
        var n = await db.Database.ExecuteSqlRawAsync(RebuildSql(db.IsPostgres, "r.merchant_id = {0} AND ", "merchant_id = {0} AND ", "{1}"), [v.Id(merchantId), v.Time(now)], ct);
        await tx.CommitAsync(ct);
        return n;
    }

    /// <summary>
    /// The recount as one statement (also what schema 15 runs, for every merchant): the history is built in SQL, times
    /// as whole seconds (SQLite keeps microseconds since 1970, PostgreSQL a timestamp).
    /// </summary>
    public static string RebuildSql(bool postgres, string returnsFilter, string inspectionsFilter, string updatedAt)
    {
        var seconds = postgres ? "floor(extract(epoch FROM r.created_at))::bigint::text" : "CAST(r.created_at / 1000000 AS TEXT)";
        var entry = $"{seconds} || CASE WHEN coalesce(u.n, 0) > 0 THEN ':' || u.n ELSE '' END";
        var history = postgres ? $"string_agg({entry}, ' ' ORDER BY r.created_at)" : $"group_concat({entry}, ' ')";
        return $"""
            INSERT INTO analytics_shoppers (merchant_id, email, returns, used_units, last_return_at, history, updated_at)
            SELECT r.merchant_id, r.customer_email, count(*), coalesce(sum(u.n), 0), max(r.created_at),
                CASE WHEN count(*) <= {ShopperHistory.MaxReturns} THEN {history} END, {updatedAt}
            FROM returns r
            LEFT JOIN (SELECT return_id, count(*) AS n FROM inspections WHERE {inspectionsFilter}grade = 'used' GROUP BY return_id) u ON u.return_id = r.id
            WHERE {returnsFilter}r.customer_email IS NOT NULL
            GROUP BY r.merchant_id, r.customer_email
            ON CONFLICT (merchant_id, email) DO UPDATE SET returns = excluded.returns, used_units = excluded.used_units,
                last_return_at = excluded.last_return_at, history = excluded.history, updated_at = excluded.updated_at
            """;
    }
}
