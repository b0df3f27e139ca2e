namespace PostService.Storage.Migrations;

/// <summary>A step counted rows before and after its change and they differ: its transaction is rolled back.</summary>
public sealed class MigrationCheckException(string message) : Exception(message);
