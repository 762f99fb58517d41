namespace Retour.Infrastructure.Outbox;

/// <summary>
/// An outage of something a loop retries every few seconds (RabbitMQ restarting, say): worth one warning when it starts,
/// a reminder once a minute while it lasts, and one line when it ends, not a warning per attempt.
/// </summary>
public sealed class Outage(TimeProvider clock)
{
    public static readonly TimeSpan ReminderEvery = TimeSpan.FromMinutes(1);
    private DateTimeOffset? _since, _said, _lastFailure;

    /// <summary>True when no attempt has failed for <paramref name="span"/> (or ever).</summary>
    public bool QuietFor(TimeSpan span) => _lastFailure is not { } last || clock.GetUtcNow() - last >= span;

    /// <summary>An attempt failed. True when it should be logged (the first failure, then once a minute); how long it has lasted.</summary>
    public bool Failed(out TimeSpan lasted)
    {
        var now = clock.GetUtcNow();
        _lastFailure = now;
        _since ??= now;
        lasted = now - _since.Value;
        if (_said is { } said && now - said < ReminderEvery) return false;
        _said = now;
        return true;
    }

    /// <summary>An attempt worked. True when it ended an outage (log that once); how long the outage lasted.</summary>
    public bool Ended(out TimeSpan lasted)
    {
        lasted = _since is { } since ? clock.GetUtcNow() - since : TimeSpan.Zero;
        var ended = _since is not null;
        _since = _said = null;
        return ended;
    }
}
