namespace Cpm.Api.Storage;

/// <summary>The <c>Storage</c> section. The provider is chosen here and nowhere else.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string SqliteProvider = "Sqlite";

    public string Provider { get; set; } = SqliteProvider;

    public SqliteStorageOptions Sqlite { get; set; } = new();
}

internal sealed class SqliteStorageOptions
{
    /// <summary>The database file, created with its schema on first start.</summary>
    public string Path { get; set; } = "cpm.db";
}
