using Npgsql;

namespace Retour.Infrastructure.Db;

/// <summary>
/// One NpgsqlDataSource for the hand-written hot paths (ADR 9), with the same connection defaults as EF's. Going through it
/// instead of the DbContext's connection spares a request the cost of initialising EF when it does not use EF at all.
/// </summary>
public sealed class PostgresSource(RetourSettings settings) : IAsyncDisposable
{
    private readonly Lazy<NpgsqlDataSource> _source = new(() =>
        NpgsqlDataSource.Create(DbSetup.PostgresConnectionString(settings.ConnectionString)));

    public NpgsqlDataSource Source => settings.Provider == DbProvider.Postgres
        ? _source.Value
        : throw new InvalidOperationException("PostgresSource is for PostgreSQL only.");

    public async ValueTask DisposeAsync()
    {
        if (_source.IsValueCreated) await _source.Value.DisposeAsync();
    }
}
