using System.Text;
using Amazon.DynamoDBv2.Model;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// DynamoDB refuses items over 400 KB. A name or answer that large is the client's doing, so it is
/// measured before sending (by DynamoDB's published rules, rounding up) and refused as too large,
/// not left to fail as a storage error.
/// </summary>
internal static class DynamoDbItemSize
{
    public const int MaxBytes = 400 * 1024;

    public static void EnsureFits(Dictionary<string, AttributeValue> row)
    {
        var size = Of(row);
        if (size > MaxBytes)
        {
            throw new TooLargeToStoreException(
                $"Request is too large to store: it would make a DynamoDB item of {size} bytes, over the limit of {MaxBytes} bytes");
        }
    }

    /// <summary>Attribute names plus values: strings in UTF-8, numbers at most 21 bytes, lists and maps 3 bytes plus 1 per element.</summary>
    public static int Of(Dictionary<string, AttributeValue> attributes) =>
        attributes.Sum(attribute => Encoding.UTF8.GetByteCount(attribute.Key) + Of(attribute.Value));

    private static int Of(AttributeValue value)
    {
        if (value.S is { } text)
        {
            return Encoding.UTF8.GetByteCount(text);
        }

        if (value.N is not null)
        {
            return 21;
        }

        if (value.L is { } list)
        {
            return 3 + list.Sum(item => 1 + Of(item));
        }

        if (value.M is { } map)
        {
            return 3 + map.Count + Of(map);
        }

        return 1;
    }
}
