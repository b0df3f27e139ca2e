namespace PostService.Atproto;

/// <summary>One decoded subscribeRepos frame (lexicon com.atproto.sync.subscribeRepos).</summary>
public abstract record FirehoseMessage;

/// <summary><c>#commit</c>: <see cref="Blocks"/> is a CAR slice holding the commit and the changed tree and records.</summary>
public sealed record FirehoseCommit(
    long Seq,
    bool Rebase,
    bool TooBig,
    string Repo,
    Cid Commit,
    string Rev,
    string? Since,
    ReadOnlyMemory<byte> Blocks,
    IReadOnlyList<FirehoseRepoOp> Ops,
    IReadOnlyList<Cid> Blobs,
    Cid? PrevData,
    string Time) : FirehoseMessage;

/// <summary>A <c>#repoOp</c>: <c>create</c>, <c>update</c> or <c>delete</c> (no <see cref="Cid"/>) of <c>collection/rkey</c>.</summary>
public sealed record FirehoseRepoOp(string Action, string Path, Cid? Cid, Cid? Prev);

public sealed record FirehoseIdentity(long Seq, string Did, string Time, string? Handle) : FirehoseMessage;

public sealed record FirehoseAccount(long Seq, string Did, string Time, bool Active, string? Status) : FirehoseMessage;

/// <summary><c>#sync</c>: <see cref="Blocks"/> is a CAR holding just the commit block.</summary>
public sealed record FirehoseSync(long Seq, string Did, ReadOnlyMemory<byte> Blocks, string Rev, string Time) : FirehoseMessage;

/// <summary><c>#info</c>, e.g. <c>OutdatedCursor</c>.</summary>
public sealed record FirehoseInfo(string Name, string? Message) : FirehoseMessage;

/// <summary>An error frame (op -1); the server closes the connection after it.</summary>
public sealed record FirehoseError(string Error, string? Message) : FirehoseMessage;

/// <summary>
/// A frame with an <c>op</c> or <c>t</c> this reader does not know, which the event-stream spec says to ignore;
/// its body was still checked as a DAG-CBOR map, since bad encoding is a hard error.
/// </summary>
public sealed record FirehoseUnknown(long Op, string? Type) : FirehoseMessage;
