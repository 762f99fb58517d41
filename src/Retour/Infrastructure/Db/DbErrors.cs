using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Retour.Infrastructure.Db;

public static class DbErrors
{
    /// <summary>A deadlock or serialisation failure: nothing was written, and the same request may simply be run again.</summary>
    public static bool IsTransient(Exception e) => (e as PostgresException ?? e.InnerException as PostgresException) is { } pg &&
        pg.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;

    /// <summary>
    /// The database is restarting, shutting down or unreachable (PostgreSQL's 57P01–57P03 and connection errors, which
    /// Npgsql marks transient), directly or after EF's retries gave up: nothing was written.
    /// </summary>
    public static bool IsUnavailable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg) return pg.SqlState.StartsWith("57P", StringComparison.Ordinal) || pg.SqlState.StartsWith("08", StringComparison.Ordinal);
            if (e is NpgsqlException { IsTransient: true }) return true;
        }
        return false;
    }

    /// <summary>
    /// Logs a failure that a loop or a queue will retry. The database being unavailable (a restart) is an outage, not a
    /// bug: a Warning with the database's message. Anything else, timeouts included, is unexpected: an Error with the
    /// exception (ADR 31).
    /// </summary>
    public static void LogRetried(this ILogger log, Exception e, string message, params object?[] args)
    {
#pragma warning disable CA2254 // the template is each caller's constant, passed through (DbErrorsTests covers the call shapes)
        if (IsUnavailable(e) && !IsTimeout(e)) log.LogWarning(message + " (database unavailable: {DbError})", [.. args, e.GetBaseException().Message]);
        else log.LogError(e, message, args);
#pragma warning restore CA2254
    }

    /// <summary>A command timeout or an exhausted pool (Npgsql calls both transient): slow queries or a leak, not an outage.</summary>
    private static bool IsTimeout(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException) if (e is TimeoutException) return true;
        return false;
    }

    /// <summary>True when the save failed on a unique index or key of <paramref name="table"/> (any table when null).</summary>
    public static bool IsUniqueViolation(DbUpdateException e, string? table = null) => e.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation && (table is null || pg.TableName == table),
        SqliteException sl => sl.SqliteErrorCode == 19 && sl.Message.Contains("UNIQUE", StringComparison.Ordinal) &&
                              (table is null || sl.Message.Contains(table + ".", StringComparison.Ordinal)),
        _ => false,
    };
}
