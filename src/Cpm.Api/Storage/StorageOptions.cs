namespace Cpm.Api.Storage;

/// <summary>The <c>Storage</c> section. The provider is chosen here and nowhere else.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string SqliteProvider = "Sqlite";
    public const string DynamoDbProvider = "DynamoDb";

    public string Provider { get; set; } = SqliteProvider;

    public SqliteStorageOptions Sqlite { get; set; } = new();

    public DynamoDbStorageOptions DynamoDb { get; set; } = new();
}

internal sealed class SqliteStorageOptions
{
    /// <summary>The database file, created with its schema on first start.</summary>
    public string Path { get; set; } = "cpm.db";
}

internal sealed class DynamoDbStorageOptions
{
    /// <summary>The one table holding every row; required with the DynamoDb provider.</summary>
    public string? TableName { get; set; }

    /// <summary>
    /// An endpoint override for a local server (moto, DynamoDB Local). Unset: the AWS endpoint of the
    /// region, and region and credentials from the standard AWS SDK chain.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Create the table with its two indexes at start-up when it is missing: for local use and tests.</summary>
    public bool CreateTable { get; set; }
}
