using System.Text;
using Cpm.Api.Tests.Infrastructure;
using Cpm.Api.Wire;

namespace Cpm.Api.Tests.Wire;

/// <summary>The writer's string escaping and byte output against a character-by-character reference of json.dumps.</summary>
public sealed class PythonJsonWriterTests
{
    [Fact]
    public void StringsAreEscapedExactlyAsJsonDumpsEscapesThem()
    {
        var random = new Random(11);
        char[] alphabet = ['a', 'Z', '0', ' ', '~', '"', '\\', '/', '<', '&', '\'', '\n', '\r', '\t', '\b', '\f', '\0', '\u001f', '\u007f', '\u00e9', '\u20ac', '\ud83d', '\ude00'];
        for (var i = 0; i < 5_000; i++)
        {
            var value = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var json = new PythonJsonWriter().StartObject().Property("k", value).EndObject();

            var expected = $"{{\"k\": {Reply.PythonJson(value)}}}";
            Assert.Equal(expected, json.ToString());
            Assert.Equal(Encoding.ASCII.GetBytes(expected), json.ToUtf8Bytes());
        }
    }

    [Fact]
    public void LongBodiesAreWrittenWholeAcrossBuilderChunks()
    {
        var json = new PythonJsonWriter().StartArray();
        for (var i = 0; i < 2_000; i++)
        {
            json.String($"item {i} caf\u00e9");
        }

        var text = json.EndArray().ToString();
        Assert.Equal(Encoding.ASCII.GetBytes(text), json.ToUtf8Bytes());
    }
}
