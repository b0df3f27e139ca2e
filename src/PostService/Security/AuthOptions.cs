using System.ComponentModel.DataAnnotations;

namespace PostService.Security;

/// <summary>Who may write and read. Bound from <c>PostService:Auth</c>.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "PostService:Auth";

    /// <summary>A key shorter than this is too easy to guess to be worth checking.</summary>
    public const int MinKeyLength = 16;

    /// <summary>
    /// Keys accepted in <c>X-Api-Key</c> (<c>PostService__Auth__ApiKeys__0</c>, <c>__1</c>, ...; several allow rotation).
    /// With none, writes and admin actions are accepted from loopback clients only.
    /// </summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>Reads need a key too; needs at least one key.</summary>
    public bool RequireKeyForReads { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < ApiKeys.Length; i++)
        {
            // The message names the setting, never the key.
            if (ApiKeys[i].Trim().Length < MinKeyLength)
            {
                yield return new ValidationResult(
                    $"PostService:Auth:ApiKeys:{i} must be at least {MinKeyLength} characters, not counting surrounding spaces.",
                    [nameof(ApiKeys)]);
            }
        }
        if (RequireKeyForReads && ApiKeys.Length == 0)
        {
            yield return new ValidationResult(
                "PostService:Auth:RequireKeyForReads needs at least one key in PostService:Auth:ApiKeys.", [nameof(RequireKeyForReads)]);
        }
    }
}
