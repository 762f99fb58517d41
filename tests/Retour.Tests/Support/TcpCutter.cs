using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Retour.Tests.Support;

/// <summary>
/// A TCP forwarder on 127.0.0.1 that can cut every connection through it at once (a network fault, or a broker that
/// drops its clients), while it goes on accepting new ones.
/// </summary>
public sealed class TcpCutter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;
    private long _downUntilTicks;

    public TcpCutter(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);
    /// <summary>
    /// Each new connection's first seconds are slow (every chunk waits 150 ms), as a broker's are when it has just
    /// started on a busy machine: a client's recovery then takes seconds, not milliseconds.
    /// </summary>
    public TimeSpan SlowStart { get; set; } = TimeSpan.Zero;
    /// <summary>Connections open through it now.</summary>
    public int Open => _open.Count / 2;

    /// <summary>Cuts every connection, and refuses new ones for <paramref name="down"/> (a broker restarting).</summary>
    public int CutAll(TimeSpan down)
    {
        Interlocked.Exchange(ref _downUntilTicks, DateTime.UtcNow.Add(down).Ticks);
        return CutAll();
    }

    /// <summary>Resets every open connection (both sides see the connection drop) and returns how many pairs it cut.</summary>
    public int CutAll()
    {
        var sockets = _open.Keys.ToList();
        foreach (var s in sockets)
        {
            try { s.LingerState = new LingerOption(true, 0); s.Close(); } catch (ObjectDisposedException) { }
            _open.TryRemove(s, out _);
        }
        return sockets.Count / 2;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            if (DateTime.UtcNow.Ticks < Interlocked.Read(ref _downUntilTicks))
            {
                client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }
            Interlocked.Increment(ref _accepted);
            _ = Task.Run(async () =>
            {
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try { await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token); }
                catch (Exception) { client.Close(); upstream.Dispose(); return; }
                _open[client] = 0;
                _open[upstream] = 0;
                var slowUntil = DateTime.UtcNow + SlowStart;
                await Task.WhenAny(PumpAsync(client, upstream, slowUntil), PumpAsync(upstream, client, slowUntil));
                foreach (var s in new[] { client, upstream }) { _open.TryRemove(s, out _); try { s.Close(); } catch (ObjectDisposedException) { } }
            });
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
        CutAll();
        try { await _accepting; } catch (Exception) { }
        _stop.Dispose();
    }
}
