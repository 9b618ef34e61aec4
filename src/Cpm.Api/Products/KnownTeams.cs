using System.Collections.Concurrent;
using Cpm.Api.Storage;

namespace Cpm.Api.Products;

/// <summary>What a product create takes from its team: none of it ever changes for a team id.</summary>
internal sealed record KnownTeam(string Id, string? Alias, string OdsCode);

/// <summary>
/// The teams products were created in, remembered by team id, so that the next create there skips
/// reading its team (on SQLite that read comes from a reader whose page cache every commit empties).
/// A team id always names the same team with the same alias and organisation: a rename changes only
/// the name, and a restore brings the alias back or is refused. Whether the team is still live is
/// not remembered: the create's own write checks it, so a team deleted since is answered 404 as
/// before. One per service, bounded like <see cref="Ods.KnownGoodOdsCodes"/>.
/// </summary>
internal sealed class KnownTeams(ICpmStore store)
{
    private const int MaxTeams = 10_000;

    private readonly ConcurrentDictionary<string, KnownTeam> _teams = new(StringComparer.Ordinal);

    /// <summary>The live team <paramref name="teamKey"/> (an id or an alias) names, or a team known by that id.</summary>
    public async Task<KnownTeam?> FindAsync(string teamKey, CancellationToken cancellationToken)
    {
        if (_teams.TryGetValue(teamKey, out var known))
        {
            return known;
        }

        if (await store.FindTeamAsync(teamKey, cancellationToken) is not { } team)
        {
            return null;
        }

        if (_teams.Count >= MaxTeams)
        {
            _teams.Clear();
        }

        // Filed under the team's id whichever key found it: an alias may name another team tomorrow.
        known = new KnownTeam(team.Id, team.Alias, team.OdsCode);
        _teams[team.Id] = known;
        return known;
    }
}
