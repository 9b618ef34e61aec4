using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

// Every API test class, run against DynamoDB (moto): one line per abstract suite in this folder.
public sealed class DynamoDbProductTeamTests(DynamoDbService service) : ProductTeamTests(service), IClassFixture<DynamoDbService>;
