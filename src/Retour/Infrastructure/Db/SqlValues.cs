using System.Data.Common;
using System.Globalization;

namespace Retour.Infrastructure.Db;

/// <summary>
/// Values as each provider stores them through the EF model, for the few hand-written SQL paths:
/// PostgreSQL has uuid, timestamptz, numeric and boolean; on SQLite EF keeps ids as upper-case text, times as
/// microseconds (<see cref="UnixMicrosConverter"/>), decimals as text and booleans as integers.
/// </summary>
public sealed class SqlValues(bool postgres)
{
    private static readonly UnixMicrosConverter Micros = new();
    public bool Postgres { get; } = postgres;

    public object Id(Guid g) => Postgres ? g : g.ToString("D").ToUpperInvariant();
    public object Time(DateTimeOffset t) => Postgres ? t : Micros.ConvertToProvider(t)!;
    public object? Time(DateTimeOffset? t) => t is { } v ? Time(v) : DBNull.Value;
    public object Money(decimal d) => Postgres ? d : d.ToString(CultureInfo.InvariantCulture);
    public object Bool(bool b) => Postgres ? b : b ? 1L : 0L;

    public Guid ReadId(DbDataReader r, int i) => Postgres ? r.GetGuid(i) : Guid.Parse(r.GetString(i));
    public DateTimeOffset ReadTime(DbDataReader r, int i) =>
        Postgres ? r.GetFieldValue<DateTimeOffset>(i) : (DateTimeOffset)Micros.ConvertFromProvider(r.GetInt64(i))!;
    public DateTimeOffset? ReadTimeOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : ReadTime(r, i);
    public decimal ReadMoney(DbDataReader r, int i) =>
        Postgres ? r.GetDecimal(i) : decimal.Parse(r.GetString(i), NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
    public bool ReadBool(DbDataReader r, int i) => Postgres ? r.GetBoolean(i) : r.GetInt64(i) != 0;
    public static string? ReadString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static void Add(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }
}
