using System.Security.Cryptography;

namespace Retour.Infrastructure.Db;

/// <summary>
/// UUIDv7 ids that strictly increase within this process (RFC 9562, method 1: a counter in rand_a).
/// Guid.CreateVersion7 is random within a millisecond, so two events written in one transaction could sort
/// either way; outbox messages and audit events use these so their order is the order they were made in.
/// </summary>
public static class SequentialId
{
    private static readonly Lock Gate = new();
    private static long _lastMs;
    private static int _counter;

    public static Guid Next()
    {
        long ms;
        int counter;
        lock (Gate)
        {
            ms = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _lastMs);
            if (ms == _lastMs && ++_counter > 0xFFF)
            {
                ms = ++_lastMs; // 4,096 ids in one millisecond: borrow the next one
                _counter = 0;
            }
            else if (ms != _lastMs)
            {
                _lastMs = ms;
                _counter = RandomNumberGenerator.GetInt32(0, 0x400); // leave room to count up
            }
            counter = _counter;
        }
        Span<byte> b = stackalloc byte[16];
        RandomNumberGenerator.Fill(b[8..]);
        b[0] = (byte)(ms >> 40);
        b[1] = (byte)(ms >> 32);
        b[2] = (byte)(ms >> 24);
        b[3] = (byte)(ms >> 16);
        b[4] = (byte)(ms >> 8);
        b[5] = (byte)ms;
        b[6] = (byte)(0x70 | (counter >> 8));
        b[7] = (byte)counter;
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return new Guid(b, bigEndian: true);
    }
}
