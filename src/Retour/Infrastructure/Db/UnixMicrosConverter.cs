using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Retour.Infrastructure.Db;

/// <summary>DateTimeOffset as microseconds since 1970-01-01 UTC, for SQLite (see RetourDb.ConfigureConventions).</summary>
public sealed class UnixMicrosConverter() : ValueConverter<DateTimeOffset, long>(
    v => (v.UtcTicks - UnixEpochTicks) / TicksPerMicro,
    v => new DateTimeOffset(UnixEpochTicks + v * TicksPerMicro, TimeSpan.Zero))
{
    private const long UnixEpochTicks = 621355968000000000L;
    private const long TicksPerMicro = 10;
}
