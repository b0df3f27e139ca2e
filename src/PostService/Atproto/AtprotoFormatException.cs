namespace PostService.Atproto;

/// <summary>The one exception every atproto reader throws for malformed, oversized or unverifiable input.</summary>
public sealed class AtprotoFormatException : Exception
{
    public AtprotoFormatException(string message)
        : base(message)
    {
    }

    public AtprotoFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
