using System.Diagnostics;
using RabbitMQ.Client;

namespace Retour.Tests.Support;

/// <summary>
/// The real RabbitMQ the scaled-mode tests use: the one scripts/test.sh started (RETOUR_TEST_RABBITMQ), or, when the
/// tests run on their own, a throwaway node started here with scripts/lib.sh (Debian's rabbitmq-server) and stopped when
/// this process exits. Each test uses its own queue name, so tests never take each other's messages.
/// </summary>
public static class RabbitBroker
{
    private static readonly Lazy<string> Server = new(Start);
    public static string Url => Server.Value;

    public static string NewQueue() => "test." + Guid.NewGuid().ToString("N")[..12];

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable("RETOUR_TEST_RABBITMQ") is { Length: > 0 } url) return url;
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "scripts", "lib.sh"))) root = Path.GetDirectoryName(root);
        if (root is null) throw new InvalidOperationException("Set RETOUR_TEST_RABBITMQ, or run the tests from the repository (scripts/test.sh starts RabbitMQ).");
        var dir = Path.Combine(Path.GetTempPath(), "retour-test-rmq-" + Guid.NewGuid().ToString("N")[..8]);
        // Started with scripts/lib.sh, output to a file (the node must hold no pipe of ours); a detached watcher stops it
        // once this test process is gone, however it ends, so nothing here waits on the broker at exit.
        Run(root, $"source scripts/lib.sh && rmq_start '{dir}' >'{dir}.log' 2>&1 && echo \"$RMQ_URL\" >'{dir}.url'");
        Run(root, $"(while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 2; done; source scripts/lib.sh; rmq_stop '{dir}'; rm -f '{dir}.log' '{dir}.url') " +
                  ">/dev/null 2>&1 </dev/null & disown");
        return File.ReadAllText(dir + ".url").Trim();
    }

    private static void Run(string root, string script)
    {
        var psi = new ProcessStartInfo("/bin/bash") { WorkingDirectory = root, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi)!;
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)) || p.ExitCode != 0)
            throw new InvalidOperationException("Could not start RabbitMQ with scripts/lib.sh (rmq_start); install rabbitmq-server, or run scripts/test.sh, which does.");
    }

    /// <summary>A connection of the test's own, to look into queues.</summary>
    public static Task<IConnection> ConnectAsync() => new ConnectionFactory { Uri = new Uri(Url) }.CreateConnectionAsync();

    public static async Task<uint> CountAsync(string queue)
    {
        await using var c = await ConnectAsync();
        await using var ch = await c.CreateChannelAsync();
        return await ch.MessageCountAsync(queue);
    }

    public static async Task WaitForCountAsync(string queue, uint count, int seconds = 20)
    {
        uint seen = 0;
        for (var i = 0; i < seconds * 10; i++)
        {
            try { if ((seen = await CountAsync(queue)) == count) return; }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { /* not declared yet */ }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"Queue {queue} holds {seen} messages, not {count}, after {seconds} s.");
    }
}
