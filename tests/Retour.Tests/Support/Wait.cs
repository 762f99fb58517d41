namespace Retour.Tests.Support;

/// <summary>Polling for what background work does: every 50 ms until the condition holds, or a timeout naming it.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, int seconds = 20, string what = "Condition")
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"{what} not met within {seconds} s.");
            await Task.Delay(50);
        }
    }

    /// <summary>Reads until <paramref name="done"/> holds for what was read, and returns that.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > until) throw new TimeoutException($"Condition not met within {seconds} s; last read {value}.");
            await Task.Delay(50);
        }
    }
}
