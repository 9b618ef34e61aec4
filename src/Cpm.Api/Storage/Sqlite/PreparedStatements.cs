using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// Compiled statements kept per connection and reused with new parameter values. Microsoft.Data.Sqlite
/// compiles the SQL again for every new command, which costs more than the indexed lookups themselves.
/// A connection is used by one request at a time, so its statements need no locking.
/// </summary>
internal static class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> ByConnection = new();

    public static PreparedStatement For(SqliteConnection connection, SqliteTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var statements = ByConnection.GetOrCreateValue(connection);
        if (!statements.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            statements[sql] = command;
        }

        command.Transaction = transaction;
        for (var position = 0; position < parameters.Length; position++)
        {
            var (name, value) = parameters[position];

            // A statement's values come in the same order each time: found by position before by name.
            var index = position < command.Parameters.Count && ReferenceEquals(command.Parameters[position].ParameterName, name)
                ? position
                : command.Parameters.IndexOf(name);
            if (index < 0)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
            else
            {
                command.Parameters[index].Value = value ?? DBNull.Value;
            }
        }

        return new PreparedStatement(command);
    }
}

/// <summary>One use of a kept statement; disposing it lets go of this use's values, not of the statement.</summary>
internal readonly struct PreparedStatement(SqliteCommand command) : IDisposable
{
    public Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken) => command.ExecuteScalarAsync(cancellationToken);

    public Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) => command.ExecuteNonQueryAsync(cancellationToken);

    public Task<SqliteDataReader> ExecuteReaderAsync(CancellationToken cancellationToken) => command.ExecuteReaderAsync(cancellationToken);

    public void Dispose()
    {
        foreach (SqliteParameter parameter in command.Parameters)
        {
            parameter.Value = DBNull.Value;
        }

        command.Transaction = null;
    }
}
