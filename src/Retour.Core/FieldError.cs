namespace Retour.Core;

/// <summary>A refusal of one input field, named by its snake_case path (for example <c>lines[0].quantity</c>).</summary>
public sealed record FieldError(string Field, string Message);
