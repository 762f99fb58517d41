using System.Diagnostics;

namespace Retour.Bench;

/// <summary>A server the bench starts (Retour or the limit server), logged to a file, stopped by its own PID.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    public string LogFile { get; }

    private ChildProcess(Process p, string logFile) => (_process, LogFile) = (p, logFile);

    public int Id => _process.Id;

    public static ChildProcess Start(string dll, IEnumerable<string> args, IDictionary<string, string> env, string logFile)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {dll}");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new ChildProcess(p, logFile);
    }

    public static Task<(int Code, string Output)> RunToEnd(string dll, IEnumerable<string> args, IDictionary<string, string> env) =>
        RunProgramToEnd("dotnet", [dll, .. args], env);

    /// <summary>Runs a program to its end; its exit code, and its standard output followed by its standard error.</summary>
    public static async Task<(int Code, string Output)> RunProgramToEnd(string program, IEnumerable<string> args, IDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        // Both pipes are read at once: a chatty stderr must not block the program while stdout is read.
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var output = await stdout + await stderr;
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }

    public async Task WaitHealthyAsync(HttpClient client, string url, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The server exited early; see {LogFile}");
            try { if ((await client.GetAsync(url)).IsSuccessStatusCode) return; } catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} did not become healthy; see {LogFile}");
    }

    /// <summary>SIGKILL, as a crash: no shutdown hooks, nothing flushed.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
