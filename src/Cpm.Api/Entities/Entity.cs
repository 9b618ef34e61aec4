using Cpm.Api.Wire;

namespace Cpm.Api.Entities;

internal static class EntityStatus
{
    public const string Active = "active";
    public const string Inactive = "inactive";

    /// <summary>The conflict when restoring what is not deleted.</summary>
    public static string NotDeletedMessage(string id) => $"{id} is not deleted";
}

/// <summary>
/// What teams and products share: a name, a status, timestamps, and a version that starts at 1
/// and moves on by one with every change (rename, delete, restore).
/// </summary>
internal abstract record Entity<TSelf>(string Id, string Name, string Status, DateTimeOffset CreatedOn, DateTimeOffset? UpdatedOn, DateTimeOffset? DeletedOn, long Version)
    where TSelf : Entity<TSelf>
{
    public bool IsActive => Status == EntityStatus.Active;

    public string ETag => $"W/\"{Version}\"";

    public TSelf Deleted(DateTimeOffset now) =>
        (TSelf)(this with { Status = EntityStatus.Inactive, UpdatedOn = now, DeletedOn = now, Version = Version + 1 });

    public TSelf Renamed(string name, DateTimeOffset now) => (TSelf)(this with { Name = name, UpdatedOn = now, Version = Version + 1 });

    public TSelf Restored(DateTimeOffset now) =>
        (TSelf)(this with { Status = EntityStatus.Active, UpdatedOn = now, DeletedOn = null, Version = Version + 1 });

    /// <summary><c>status</c>, <c>created_on</c>, <c>updated_on</c>, <c>deleted_on</c>: the same four fields in both bodies.</summary>
    protected PythonJsonWriter WriteLifecycle(PythonJsonWriter json) => json
        .Property("status", Status)
        .Timestamp("created_on", CreatedOn)
        .Timestamp("updated_on", UpdatedOn)
        .Timestamp("deleted_on", DeletedOn);
}
