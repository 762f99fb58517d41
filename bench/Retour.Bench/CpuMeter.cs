using System.Globalization;

namespace Retour.Bench;

/// <summary>CPU time over a window: the machine's busy time, and each part's (a part is processes and their children).</summary>
public sealed record CpuUse(double WallSeconds, double MachineBusySeconds, IReadOnlyDictionary<string, double> PartSeconds)
{
    /// <summary>Cores busy on average (2.0 is both cores of this VM all the time).</summary>
    public double BusyCores => MachineBusySeconds / WallSeconds;
    /// <summary>Busy time no listed part accounts for (the kernel's own threads, other processes).</summary>
    public double OtherSeconds => Math.Max(0, MachineBusySeconds - PartSeconds.Values.Sum());
}

/// <summary>
/// Reads Linux's per-process CPU accounting (/proc/PID/stat: user and system time) and the machine's (/proc/stat) at the
/// start and end of a measured window, so a figure says where the CPU went: which part of a deployment costs what per
/// request. Each process counts towards the part of its nearest listed ancestor (itself included): PostgreSQL's backends
/// towards PostgreSQL, a Retour process the bench started towards Retour and not towards the bench.
/// </summary>
public sealed class CpuMeter(IReadOnlyDictionary<string, int[]> parts)
{
    /// <summary>USER_HZ: /proc reports times in 1/100 s on Linux whatever the kernel's own tick.</summary>
    private const double TicksPerSecond = 100;

    public sealed record Sample(DateTime At, long MachineBusy, IReadOnlyDictionary<string, long> Parts);

    public static bool Available => File.Exists("/proc/stat");

    public Sample Take()
    {
        var processes = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; } // it ended meanwhile
            catch (UnauthorizedAccessException) { continue; }
            // "pid (comm) state ppid … utime stime cutime cstime …"; comm may hold spaces and parentheses, so split after
            // the last ')'. A child that ended (and was waited for) moves its time into its parent's cutime and cstime, so
            // a part's total stays whole when a process of it ends within the window (PostgreSQL's autovacuum workers).
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long T(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            processes[pid] = (int.Parse(f[1], CultureInfo.InvariantCulture), T(11) + T(12) + T(13) + T(14));
        }
        var owner = new Dictionary<int, string>();
        foreach (var (part, pids) in parts)
            foreach (var pid in pids) owner[pid] = part;
        var totals = parts.Keys.ToDictionary(k => k, _ => 0L);
        foreach (var (pid, (_, ticks)) in processes)
        {
            // Walk up to the nearest listed process (bounded: a cycle cannot happen, but a bad read must not hang the bench).
            var p = pid;
            for (var depth = 0; depth < 64 && p > 1; depth++)
            {
                if (owner.TryGetValue(p, out var part)) { totals[part] += ticks; break; }
                if (!processes.TryGetValue(p, out var info)) break;
                p = info.Parent;
            }
        }
        // cpu  user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var busy = cpu.Take(8).Sum() - cpu[3] - cpu[4];
        return new Sample(DateTime.UtcNow, busy, totals);
    }

    public static CpuUse Between(Sample a, Sample b) => new(
        (b.At - a.At).TotalSeconds,
        (b.MachineBusy - a.MachineBusy) / TicksPerSecond,
        a.Parts.ToDictionary(kv => kv.Key, kv => (b.Parts.GetValueOrDefault(kv.Key) - kv.Value) / TicksPerSecond));

    /// <summary>A reading over a load's measured window (pass <see cref="Window"/> as the load's onWindow).</summary>
    public sealed class Reading(CpuMeter meter)
    {
        private Sample? _start;
        public CpuUse? Use { get; private set; }
        public void Window(bool starting)
        {
            if (starting) _start = meter.Take();
            else if (_start is not null) Use = Between(_start, meter.Take());
        }
    }

    /// <summary>The PID in a PID file (PostgreSQL's postmaster.pid and nginx's hold it on the first line), or none.</summary>
    public static int[] PidFile(string path)
    {
        try { return int.TryParse(File.ReadLines(path).FirstOrDefault()?.Trim(), out var pid) ? [pid] : []; }
        catch (IOException) { return []; }
    }
}
