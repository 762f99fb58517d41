using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Infrastructure.Csv;
using Retour.Infrastructure.Db;
using Spectre.Console;

namespace Retour.Features.Orders;

public sealed record RejectedRow(long Line, string Reason);

public sealed record ImportSummary(int Orders, int Created, int Updated, int Stale, IReadOnlyList<RejectedRow> Rejected);

/// <summary>
/// `retour import orders FILE.csv --merchant SLUG`: one row per order line; rows with the same order_number form one
/// order. An order with any bad row is rejected as a whole (its other rows are listed too), and the summary names
/// every rejected row by its line number in the file.
/// </summary>
public static class ImportOrders
{
    public static readonly string[] Required = ["order_number", "placed_at", "currency", "line_id", "title", "quantity", "unit_price"];
    public static readonly string[] Optional =
    [
        "delivered_at", "customer_email", "customer_name", "customer_locale", "ship_name", "ship_line1", "ship_line2", "ship_city",
        "ship_region", "ship_postal_code", "ship_country", "sku", "category", "tax", "discount", "final_sale", "size", "color", "shipping_total", "grams",
    ];
    private const int BatchSize = 100;

    public static async Task<ImportSummary> RunAsync(RetourDb db, TextReader reader, string merchantCurrency, TimeProvider clock, IAnsiConsole console, CancellationToken ct)
    {
        var (rows, headerError) = CsvRows.Read(reader, Required);
        if (headerError is not null) throw new InvalidDataException(headerError);
        var orders = rows.GroupBy(r => r.Fields.GetValueOrDefault("order_number")?.Trim() ?? "").ToList();
        var rejected = new List<RejectedRow>();
        int created = 0, updated = 0, stale = 0;

        await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"Importing {orders.Count} orders", maxValue: Math.Max(1, orders.Count));
                var pending = new List<(IGrouping<string, CsvRow> Rows, OrderData Data)>();
                foreach (var group in orders)
                {
                    var data = Build(group, rejected, merchantCurrency, clock.GetUtcNow());
                    if (data is not null) pending.Add((group, data));
                    else task.Increment(1);
                    if (pending.Count >= BatchSize) await FlushAsync();
                }
                await FlushAsync();

                async Task FlushAsync()
                {
                    if (pending.Count == 0) return;
                    try
                    {
                        await SaveAsync(pending.Select(p => p.Data));
                    }
                    catch (Exception e) when (e is DbUpdateException or OrderNumberConflictException && !DbErrors.IsUnavailable(e))
                    {
                        // Find the culprit: save the batch again one order at a time.
                        db.ChangeTracker.Clear();
                        foreach (var (group, data) in pending)
                        {
                            try { await SaveAsync([data]); }
                            catch (Exception inner) when (inner is DbUpdateException or OrderNumberConflictException && !DbErrors.IsUnavailable(inner))
                            {
                                db.ChangeTracker.Clear();
                                rejected.AddRange(group.Select(r => new RejectedRow(r.Line, $"order {data.Number}: {(inner as OrderNumberConflictException)?.Message ?? "could not be saved: " + inner.GetBaseException().Message}")));
                            }
                        }
                    }
                    task.Increment(pending.Count);
                    pending.Clear();
                }
            });
        return new ImportSummary(orders.Count, created, updated, stale, [.. rejected.OrderBy(r => r.Line)]);

        async Task SaveAsync(IEnumerable<OrderData> batch)
        {
            int c = 0, u = 0, s = 0;
            foreach (var data in batch)
            {
                var (_, outcome) = await OrderIngestion.UpsertAsync(db, data, clock.GetUtcNow(), ct);
                if (outcome == UpsertOutcome.Created) c++;
                else if (outcome == UpsertOutcome.Updated) u++;
                else s++;
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            created += c;
            updated += u;
            stale += s;
        }
    }

    /// <summary>Builds one order from its rows, or records why each of its rows is rejected.</summary>
    private static OrderData? Build(IGrouping<string, CsvRow> group, List<RejectedRow> rejected, string merchantCurrency, DateTimeOffset now)
    {
        var rows = group.ToList();
        var errors = new List<(long Line, string Reason)>();
        if (group.Key.Length == 0)
        {
            rejected.AddRange(rows.Select(r => new RejectedRow(r.Line, "order_number: the order number is required.")));
            return null;
        }
        var first = rows[0];
        var lines = new List<LineInput>();
        foreach (var r in rows)
        {
            var f = r.Fields;
            string? Get(string k) => f.GetValueOrDefault(k);
            int? Int(string k) { if (Get(k) is not { } v) return null; if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) return i; errors.Add((r.Line, $"{k}: '{v}' is not a whole number.")); return null; }
            decimal? Dec(string k) { if (Get(k) is not { } v) return null; if (decimal.TryParse(v, NumberStyles.Number, CultureInfo.InvariantCulture, out var d)) return d; errors.Add((r.Line, $"{k}: '{v}' is not a number (use a dot for decimals).")); return null; }
            bool? Bool(string k) => Get(k)?.ToLowerInvariant() switch { null => null, "true" or "yes" or "1" or "y" => true, "false" or "no" or "0" or "n" => false, var v => Fail(k, v) };
            bool? Fail(string k, string v) { errors.Add((r.Line, $"{k}: '{v}' is not true or false.")); return null; }
            var variant = new Dictionary<string, string>();
            if (Get("size") is { } size) variant["size"] = size;
            if (Get("color") is { } color) variant["color"] = color;
            lines.Add(new LineInput(Get("line_id"), Get("sku"), Get("title"), Get("category"), Int("quantity"), Dec("unit_price"), Dec("tax"),
                Bool("final_sale"), variant.Count > 0 ? variant : null, Dec("discount"), Grams: Int("grams")));
            foreach (var (k, other) in new[] { "placed_at", "delivered_at", "currency", "customer_email" }.Select(k => (k, Get(k))))
                if (other is not null && first.Fields.GetValueOrDefault(k) is { } firstValue && firstValue != other)
                    errors.Add((r.Line, $"{k}: '{other}' differs from line {first.Line} of the same order ('{firstValue}')."));
        }
        DateTimeOffset? Time(string k)
        {
            if (first.Fields.GetValueOrDefault(k) is not { } v) return null;
            if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
            errors.Add((first.Line, $"{k}: '{v}' is not a date and time (use ISO 8601, for example 2026-10-01T12:00:00Z)."));
            return null;
        }
        string? F(string k) => first.Fields.GetValueOrDefault(k);
        decimal? shipping = decimal.TryParse(F("shipping_total"), NumberStyles.Number, CultureInfo.InvariantCulture, out var st) ? st : null;
        var input = new OrderInput(group.Key, Time("placed_at"), Time("delivered_at"), F("currency"),
            new CustomerInput(F("customer_email"), F("customer_name"), F("customer_locale")),
            F("ship_line1") is null && F("ship_city") is null && F("ship_country") is null ? null
                : new AddressInput(F("ship_name"), F("ship_line1"), F("ship_city"), F("ship_postal_code"), F("ship_country"), F("ship_line2"), F("ship_region")),
            lines, ShippingTotal: shipping);

        if (errors.Count == 0)
        {
            var (data, fieldErrors) = OrderValidation.Validate(input, "csv", now);
            if (data is not null && OrderValidation.CurrencyMismatch(data, merchantCurrency) is { } mismatch) fieldErrors = [mismatch];
            else if (data is not null) return data;
            errors.AddRange(fieldErrors.Select(e => (LineOf(e, rows), $"{e.Field}: {e.Message}")));
        }
        var bad = errors.Select(e => e.Line).ToHashSet();
        rejected.AddRange(errors.Select(e => new RejectedRow(e.Line, e.Reason)));
        rejected.AddRange(rows.Where(r => !bad.Contains(r.Line)).Select(r =>
            new RejectedRow(r.Line, $"order {group.Key} was not imported because line {bad.Min()} of the same order is invalid.")));
        return null;
    }

    /// <summary>"lines[2].quantity" belongs to the order's third row; order-level fields to its first.</summary>
    private static long LineOf(FieldError e, List<CsvRow> rows)
    {
        if (e.Field.StartsWith("lines[", StringComparison.Ordinal))
        {
            var end = e.Field.IndexOf(']');
            if (end > 6 && int.TryParse(e.Field.AsSpan(6, end - 6), out var i) && i < rows.Count) return rows[i].Line;
        }
        return rows[0].Line;
    }

    public static void PrintSummary(ImportSummary s, IAnsiConsole console)
    {
        var table = new Table().AddColumns("orders in file", "created", "updated", "unchanged (older update)", "rejected rows");
        table.AddRow(s.Orders.ToString(), s.Created.ToString(), s.Updated.ToString(), s.Stale.ToString(), s.Rejected.Count.ToString());
        console.Write(table);
        if (s.Rejected.Count == 0)
        {
            console.MarkupLine("[green]Every row was imported.[/]");
            return;
        }
        console.MarkupLine($"[yellow]{s.Rejected.Count} row(s) rejected:[/]");
        foreach (var r in s.Rejected) console.WriteLine($"  line {r.Line}: {r.Reason}");
    }
}
