using Microsoft.EntityFrameworkCore;
using Retour.Features.Orders;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Csv;
using Retour.Infrastructure.Db;
using Spectre.Console;

namespace Retour.Features.Carriers;

public sealed record CarrierImportSummary(int Rows, int Created, int Updated, IReadOnlyList<RejectedRow> Rejected);

/// <summary>
/// `retour import carriers FILE.csv --merchant SLUG`: one row per carrier, created or replaced by code, with the same checks
/// as the API. The file is all or nothing: when any row is invalid, every problem is listed by line and nothing changes.
/// </summary>
public static class ImportCarriers
{
    public static readonly string[] Required = ["code", "name", "services"];

    public static async Task<CarrierImportSummary> RunAsync(RetourDb db, TextReader reader, CarrierAdapters adapters, TimeProvider clock, IAnsiConsole console, CancellationToken ct)
    {
        var (rows, headerError) = CsvRows.Read(reader, Required);
        if (headerError is not null) throw new InvalidDataException(headerError);
        var unknown = rows.SelectMany(r => r.Fields.Keys).Distinct().Where(k => !CarrierRegistry.CsvColumns.Contains(k)).ToList();
        if (unknown.Count > 0) throw new InvalidDataException($"Unknown column(s) {string.Join(", ", unknown)}. Columns: {string.Join(", ", CarrierRegistry.CsvColumns)}.");
        var existing = await db.Carriers.ToDictionaryAsync(c => c.Code, ct);
        var rejected = new List<RejectedRow>();
        var seen = new Dictionary<string, long>();
        int created = 0, updated = 0;
        var now = clock.GetUtcNow();
        console.MarkupLine($"Checking {rows.Count} carrier row(s)…");
        foreach (var row in rows)
        {
            var errors = new List<Retour.Core.FieldError>();
            var input = CarrierRegistry.FromCsv(row.Fields, errors);
            var code = input.Code ?? "";
            if (seen.TryGetValue(code, out var first)) { rejected.Add(new RejectedRow(row.Line, $"code: '{code}' appears already on line {first}.")); continue; }
            seen[code] = row.Line;
            var target = existing.GetValueOrDefault(code) ?? new Carrier { Code = "", Name = "", CreatedAt = now };
            if (errors.Count == 0) errors.AddRange(CarrierRegistry.Apply(input, target, adapters, now));
            if (errors.Count > 0) { rejected.AddRange(errors.Select(e => new RejectedRow(row.Line, $"{e.Field}: {e.Message}"))); continue; }
            if (existing.ContainsKey(code)) updated++;
            else { db.Carriers.Add(target); created++; }
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "carrier", EntityId = target.Id, Action = existing.ContainsKey(code) ? "carrier_updated" : "carrier_created",
                ActorType = "cli", ActorName = "retour import carriers", Reason = code, OccurredAt = now,
            });
        }
        if (rejected.Count > 0) return new CarrierImportSummary(rows.Count, 0, 0, rejected);
        if (existing.Count + created > CarrierEndpoints.MaxCarriers)
            throw new InvalidDataException($"A merchant can have at most {CarrierEndpoints.MaxCarriers} carriers.");
        await db.SaveChangesAsync(ct);
        return new CarrierImportSummary(rows.Count, created, updated, []);
    }

    public static void PrintSummary(CarrierImportSummary s, IAnsiConsole console)
    {
        var table = new Table().AddColumns("rows", "created", "updated", "rejected rows");
        table.AddRow(s.Rows.ToString(), s.Created.ToString(), s.Updated.ToString(), s.Rejected.Select(r => r.Line).Distinct().Count().ToString());
        console.Write(table);
        if (s.Rejected.Count == 0) { console.MarkupLine("[green]Every carrier was imported.[/]"); return; }
        console.MarkupLine("[yellow]Nothing was imported; fix these and run the import again:[/]");
        foreach (var r in s.Rejected) console.WriteLine($"  line {r.Line}: {r.Reason}");
    }
}
