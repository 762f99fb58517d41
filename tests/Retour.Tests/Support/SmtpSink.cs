using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Retour.Tests.Support;

/// <summary>
/// The real SMTP server the notification tests send to: the one scripts/test.sh started (RETOUR_TEST_SMTP_PORT and
/// RETOUR_TEST_MAILDIR), or, when the tests run on their own, Debian's python3-aiosmtpd started here for this process.
/// Messages land in a Maildir, read back and decoded (encoded-word subjects, base64 or quoted-printable bodies).
/// </summary>
public static partial class SmtpSink
{
    private static readonly Lazy<(int Port, string Maildir)> Server = new(Start);
    public static int Port => Server.Value.Port;
    public static string Maildir => Server.Value.Maildir;

    private static (int, string) Start()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("RETOUR_TEST_SMTP_PORT"), out var port) && Environment.GetEnvironmentVariable("RETOUR_TEST_MAILDIR") is { } dir)
            return (port, dir);
        const string python = "/usr/bin/python3";
        var maildir = Path.Combine(Path.GetTempPath(), "retour-test-mail-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var sub in new[] { "tmp", "new", "cur" }) Directory.CreateDirectory(Path.Combine(maildir, sub));
        using (var l = new TcpListener(System.Net.IPAddress.Loopback, 0)) { l.Start(); port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port; }
        // The sink is stopped with this test process even when the test host is killed rather than shut down: a small
        // shell watches this process and ends the sink (its own child) when this process is gone.
        var watch = $"{python} -m aiosmtpd -n -l 127.0.0.1:{port} -c aiosmtpd.handlers.Mailbox '{maildir}' & sink=$!; " +
                    $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 $sink 2>/dev/null; do sleep 1; done; kill $sink 2>/dev/null; wait $sink";
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(watch);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the SMTP sink.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } };
        for (var i = 0; i < 100; i++)
        {
            if (p.HasExited)
                throw new InvalidOperationException($"The SMTP sink did not start ({p.StandardError.ReadToEnd().Trim()}). Install python3-aiosmtpd, or run scripts/test.sh, which does.");
            try { using var c = new TcpClient("127.0.0.1", port); return (port, maildir); }
            catch (SocketException) { Thread.Sleep(100); }
        }
        throw new TimeoutException("The SMTP sink did not listen within 10 s.");
    }

    public sealed record Mail(string To, string Subject, string Body, IReadOnlyDictionary<string, string> Headers);

    /// <summary>Every message so far to <paramref name="to"/>.</summary>
    public static IReadOnlyList<Mail> To(string to) =>
        [.. Directory.GetFiles(Path.Combine(Maildir, "new")).Concat(Directory.GetFiles(Path.Combine(Maildir, "cur"))).Select(f => Parse(File.ReadAllText(f)))
            .Where(m => m.To.Contains(to, StringComparison.OrdinalIgnoreCase))];

    public static async Task<Mail> WaitForAsync(string to, Func<Mail, bool> match, string what, int seconds = 20)
    {
        for (var i = 0; i < seconds * 10; i++)
        {
            if (To(to).FirstOrDefault(match) is { } m) return m;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"No email to {to} ({what}) within {seconds} s; it has: {string.Join(" | ", To(to).Select(m => m.Subject))}");
    }

    private static Mail Parse(string raw)
    {
        var split = raw.Replace("\r\n", "\n").Split("\n\n", 2);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var line in split[0].Split('\n'))
        {
            if (line.Length > 0 && char.IsWhiteSpace(line[0]) && last is not null) { headers[last] += " " + line.Trim(); continue; }
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            last = line[..colon];
            headers[last] = line[(colon + 1)..].Trim();
        }
        var body = split.Length > 1 ? split[1] : "";
        var encoding = headers.GetValueOrDefault("Content-Transfer-Encoding", "").ToLowerInvariant();
        if (encoding == "base64") body = Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))));
        else if (encoding == "quoted-printable") body = QuotedPrintable(body);
        return new Mail(headers.GetValueOrDefault("X-RcptTo") ?? headers.GetValueOrDefault("To", ""), Words(headers.GetValueOrDefault("Subject", "")), body, headers);
    }

    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*")]
    private static partial Regex EncodedWord();

    private static string Words(string s) => EncodedWord().Replace(s, m => m.Groups[2].Value.ToUpperInvariant() == "B"
        ? Encoding.UTF8.GetString(Convert.FromBase64String(m.Groups[3].Value))
        : QuotedPrintable(m.Groups[3].Value.Replace('_', ' ')));

    private static string QuotedPrintable(string s)
    {
        var bytes = new List<byte>();
        var text = s.Replace("=\n", "");
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
