using Microsoft.Extensions.Logging;
using Retour.Infrastructure.Db;
using Xunit;

namespace Retour.Tests.Infrastructure;

public sealed class DbErrorsTests
{
    private sealed class Capture : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception), exception));
    }

    /// <summary>A loop's failure while PostgreSQL restarts is an outage (a Warning with its message); anything else is a bug (an Error with the exception).</summary>
    [Fact]
    public void ARetriedFailure_IsAWarningWhenTheDatabaseIsUnavailable_AndAnErrorOtherwise()
    {
        var log = new Capture();
        var restart = new Npgsql.PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");
        log.LogRetried(new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", restart), "{What} failed; retrying shortly", "Outbox relay");
        log.LogRetried(new InvalidOperationException("a bug of ours"), "{What} failed; retrying shortly", "Outbox relay");
        log.LogRetried(new Npgsql.PostgresException("syntax error", "ERROR", "ERROR", "42601"), "{What} failed; retrying shortly", "Outbox relay");
        // The server refusing connections (stopped): Npgsql's transient error; a template without arguments.
        log.LogRetried(new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5432", new System.Net.Sockets.SocketException(111)), "Outbox relay failed; retrying shortly");
        // A command timeout is transient to Npgsql, but slow queries are not an outage.
        log.LogRetried(new Npgsql.NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")), "Outbox relay failed; retrying shortly");
        Assert.Collection(log.Lines,
            outage =>
            {
                Assert.Equal(LogLevel.Warning, outage.Level);
                Assert.Equal("Outbox relay failed; retrying shortly (database unavailable: 57P01: terminating connection due to administrator command)", outage.Message);
                Assert.Null(outage.Exception);
            },
            bug => { Assert.Equal(LogLevel.Error, bug.Level); Assert.Equal("Outbox relay failed; retrying shortly", bug.Message); Assert.NotNull(bug.Exception); },
            badSql => Assert.Equal(LogLevel.Error, badSql.Level),
            refused =>
            {
                Assert.Equal(LogLevel.Warning, refused.Level);
                Assert.StartsWith("Outbox relay failed; retrying shortly (database unavailable: ", refused.Message);
            },
            timeout => Assert.Equal(LogLevel.Error, timeout.Level));
    }
}
