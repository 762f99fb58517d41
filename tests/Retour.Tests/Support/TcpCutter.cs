using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Retour.Tests.Support;

/// <summary>
/// A TCP forwarder on 127.0.0.1 that can cut every connection through it at once (a network fault, or a broker that
/// drops its clients), refuse new ones for a while (a broker restarting), and slow new connections' first seconds.
/// </summary>
public sealed class TcpCutter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    /// <summary>Every socket of a live pair, the client's as soon as it is accepted (so a cut reaches pairs still connecting).</summary>
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly ConcurrentDictionary<Task, byte> _pairs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;
    private long _downUntilTicks;

    public TcpCutter(string upstreamHost, int upstreamPort)
    {
        (_upstreamHost, _upstreamPort) = (upstreamHost, upstreamPort);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    /// <summary>Connections accepted and forwarded so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);
    /// <summary>
    /// Each new connection's first seconds are slow (every chunk waits 150 ms), as a broker's are when it has just
    /// started on a busy machine: a client's recovery then takes seconds, not milliseconds.
    /// </summary>
    public TimeSpan SlowStart { get; set; } = TimeSpan.Zero;
    private bool Down => DateTime.UtcNow.Ticks < Interlocked.Read(ref _downUntilTicks);

    /// <summary>Cuts every connection, and refuses new ones for <paramref name="down"/>. Returns how many sockets it reset.</summary>
    public int CutAll(TimeSpan down)
    {
        Interlocked.Exchange(ref _downUntilTicks, DateTime.UtcNow.Add(down).Ticks);
        var sockets = _open.Keys.ToList();
        foreach (var s in sockets) Reset(s);
        return sockets.Count;
    }

    private void Reset(Socket s)
    {
        _open.TryRemove(s, out _);
        try { s.LingerState = new LingerOption(true, 0); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        try { s.Close(); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            if (Down) { Reset(client); continue; }
            _open[client] = 0;
            var pair = ForwardAsync(client);
            _pairs[pair] = 0;
            _ = pair.ContinueWith(t => _pairs.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
            // Cut, or the broker went down, while this pair was connecting.
            if (Down || !_open.ContainsKey(client)) return;
            _open[upstream] = 0;
            Interlocked.Increment(ref _accepted);
            var slowUntil = DateTime.UtcNow + SlowStart;
            await Task.WhenAny(PumpAsync(client, upstream, slowUntil), PumpAsync(upstream, client, slowUntil));
        }
        catch (Exception) { /* upstream refused, or the cutter is stopping */ }
        finally
        {
            Reset(client);
            Reset(upstream);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, DateTime slowUntil)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) return;
                if (DateTime.UtcNow < slowUntil) await Task.Delay(150, _stop.Token);
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception) { /* cut, or closed by the other side */ }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var s in _open.Keys.ToList()) Reset(s);
        try { await _accepting; } catch (Exception) { }
        try { await Task.WhenAll(_pairs.Keys.ToList()); } catch (Exception) { }
        _stop.Dispose();
    }
}
