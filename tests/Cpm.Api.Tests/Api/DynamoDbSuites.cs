using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

// Every API test class, run against DynamoDB (moto): one line per abstract suite in this folder.
public sealed class DynamoDbProductTeamTests(DynamoDbService service) : ProductTeamTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbProductTests(DynamoDbService service) : ProductTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbHeaderTests(DynamoDbService service) : HeaderTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbJsonFormatTests(DynamoDbService service) : JsonFormatTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbOdsTests(DynamoDbService service) : OdsTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbChangeTests(DynamoDbService service) : ChangeTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbCallerTests(DynamoDbService service) : CallerTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbLargeRegisterTests(DynamoDbService service) : LargeRegisterTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbLargeAnswerTests(DynamoDbService service) : LargeAnswerTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbHardeningTests(DynamoDbService service) : HardeningTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbExportImportTests(DynamoDbService service) : ExportImportTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbTimestampTests(DynamoDbPinnedClockService service) : TimestampTests(service), IClassFixture<DynamoDbPinnedClockService>;

public sealed class DynamoDbWebhookApiTests(DynamoDbService service) : WebhookApiTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbWebhookTests : WebhookTests
{
    protected override CpmService CreateService() => new DynamoDbService();
}

public sealed class DynamoDbConcurrentWriteTests(DynamoDbService service) : ConcurrentWriteTests(service), IClassFixture<DynamoDbService>;

public sealed class DynamoDbClockTests(DynamoDbMovableClockService service) : ClockTests(service), IClassFixture<DynamoDbMovableClockService>;
