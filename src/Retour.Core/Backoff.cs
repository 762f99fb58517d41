namespace Retour.Core;

/// <summary>Exponential backoff shared by every retry here (outbox, refunds, webhooks, email): first, twice that, … up to a cap.</summary>
public static class Backoff
{
    public static TimeSpan Exponential(int attempts, TimeSpan first, TimeSpan cap) =>
        TimeSpan.FromMilliseconds(Math.Min(cap.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempts - 1))));

    public static readonly TimeSpan Hour = TimeSpan.FromHours(1);
}
