using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cpm.Api.Telemetry;

/// <summary>
/// Writes a log value that is not a plain scalar as its <see cref="object.ToString"/>, as the
/// framework's JSON console logger did. Serialising such values as objects fails for many of the
/// framework's own (an <c>Endpoint</c> holds reflection types) and would cut the line short.
/// </summary>
internal sealed class LogValueConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => !IsScalar(Nullable.GetUnderlyingType(typeToConvert) ?? typeToConvert);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(AsText<>).MakeGenericType(typeToConvert))!;

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan);

    private sealed class AsText<T> : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Log values are only written.");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value?.ToString());
    }
}
