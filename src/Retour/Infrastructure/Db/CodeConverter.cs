using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Retour.Core.Returns;

namespace Retour.Infrastructure.Db;

/// <summary>Stores enums as their API codes ("pending_review"), so the database reads like the API.</summary>
public sealed class CodeConverter<T>() : ValueConverter<T, string>(v => Codes.Of(v), s => Parse(s))
    where T : struct, Enum
{
    public static readonly CodeConverter<T> Instance = new();

    private static T Parse(string code) =>
        Codes.TryParse<T>(code, out var v) ? v : throw new InvalidOperationException($"Unknown {typeof(T).Name} code '{code}' in the database.");
}
