// ParseRedisUrl (common/storage/redis_url.h): the one-server and the Sentinel
// forms, their defaults, and messages that name the part at fault without
// ever echoing a password.
#include "common/storage/redis_url.h"

#include <gtest/gtest.h>

#include "common/storage/redis.h"

namespace genesis {
namespace {

std::string ErrorOf(const char* url) {
  auto parsed = ParseRedisUrl(url);
  EXPECT_FALSE(parsed.ok()) << url;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << url;
  return std::string(parsed.status().message());
}

TEST(RedisUrlTest, OneServerWithDefaults) {
  auto u = ParseRedisUrl("redis://cache.internal");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_FALSE(u->sentinel);
  ASSERT_EQ(u->servers.size(), 1u);
  EXPECT_EQ(u->servers[0].host, "cache.internal");
  EXPECT_EQ(u->servers[0].port, 6379);
  EXPECT_EQ(u->password, "");
  EXPECT_EQ(u->db, 0);
  EXPECT_EQ(u->Describe(), "redis cache.internal:6379");
}

TEST(RedisUrlTest, OneServerWithPasswordPortAndDatabase) {
  auto u = ParseRedisUrl("redis://:s3cr@t@127.0.0.1:6380/2");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->servers[0].host, "127.0.0.1");
  EXPECT_EQ(u->servers[0].port, 6380);
  EXPECT_EQ(u->password, "s3cr@t");  // up to the last '@'
  EXPECT_EQ(u->db, 2);
  // A user name is ignored; a bare userinfo is the password; an empty path is db 0.
  EXPECT_EQ(ParseRedisUrl("redis://app:pw@h:1")->password, "pw");
  EXPECT_EQ(ParseRedisUrl("redis://pw@h:1")->password, "pw");
  EXPECT_EQ(ParseRedisUrl("redis://h:1/")->db, 0);
}

TEST(RedisUrlTest, SentinelsMasterNameAndDatabase) {
  auto u =
      ParseRedisUrl("redis-sentinel://:pw@10.0.0.1:26380,sentinel-b,sentinel-c:5000/mymaster/3");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->sentinel);
  ASSERT_EQ(u->servers.size(), 3u);
  EXPECT_EQ(u->servers[0], (RedisEndpoint{"10.0.0.1", 26380}));
  EXPECT_EQ(u->servers[1], (RedisEndpoint{"sentinel-b", 26379}));  // the Sentinel default port
  EXPECT_EQ(u->servers[2], (RedisEndpoint{"sentinel-c", 5000}));
  EXPECT_EQ(u->master_name, "mymaster");
  EXPECT_EQ(u->password, "pw");
  EXPECT_EQ(u->sentinel_password, "");
  EXPECT_EQ(u->db, 3);
  EXPECT_EQ(u->Describe(),
            "redis master mymaster (sentinels 10.0.0.1:26380,sentinel-b:26379,sentinel-c:5000)");
}

TEST(RedisUrlTest, SentinelWithOneSentinelAndNoDatabase) {
  auto u = ParseRedisUrl("redis-sentinel://127.0.0.1:26379/genesis-cache");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->servers.size(), 1u);
  EXPECT_EQ(u->master_name, "genesis-cache");
  EXPECT_EQ(u->db, 0);
}

TEST(RedisUrlTest, SentinelPasswordIsTheRestOfTheUrl) {
  auto u = ParseRedisUrl("redis-sentinel://:master@pw@s1,s2/m/1?sentinel_password=a?b@c/d");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->password, "master@pw");
  EXPECT_EQ(u->sentinel_password, "a?b@c/d");
  EXPECT_EQ(u->servers.size(), 2u);
  EXPECT_EQ(u->master_name, "m");
  EXPECT_EQ(u->db, 1);
}

TEST(RedisUrlTest, RefusesWhatItCannotUseNamingThePart) {
  EXPECT_NE(ErrorOf("http://x").find("must start with redis:// (one server) or redis-sentinel://"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis://").find("has no host"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://h:99999").find("port '99999'"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://h:0").find("is not 1-65535"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://h:1/x").find("database 'x'"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://h:1/-1").find("database '-1'"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://h:1/0/1").find("at most a database number"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://a:1,b:2").find("list sentinels with redis-sentinel://"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis://h?db=1").find("takes no query parameters"), std::string::npos);
  EXPECT_NE(ErrorOf("redis://[::1]:6379").find("IPv6 literals are not supported"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel:///m").find("needs at least one sentinel"), std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1:26379").find("needs the master's name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1:26379/").find("needs the master's name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1,,s2/m").find("sentinel '' has no host"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1:x/m").find("sentinel port 'x'"), std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/my master").find("master name 'my master'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/m/").find("database after the master's name is empty"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/m/db").find("database 'db'"), std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/m/1/2").find("needs the master's name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/m?sentinel_password=").find("sentinel_password is empty"),
            std::string::npos);
  EXPECT_NE(ErrorOf("redis-sentinel://s1/m?timeout=1").find("the only query parameter"),
            std::string::npos);
}

TEST(RedisUrlTest, MessagesNeverContainThePassword) {
  for (const char* bad :
       {"redis://:hunter2@h:99999", "redis://:hunter2@h/x", "redis://:hunter2@",
        "redis-sentinel://:hunter2@s1", "redis-sentinel://s1/m/x?sentinel_password=hunter2",
        "redis-sentinel://:hunter2@s1:bad/m", "rediss://:hunter2@h"}) {
    auto parsed = ParseRedisUrl(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(std::string(parsed.status().message()).find("hunter2"), std::string::npos)
        << parsed.status();
  }
}

TEST(RedisUrlTest, TheClientRefusesAMalformedUrlAtCreate) {
  RedisOptions options;
  options.url = "redis-sentinel://127.0.0.1:26379";
  auto client = RedisClient::Create(options, nullptr);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  options.url = "redis-sentinel://127.0.0.1:1,127.0.0.1:2/m";
  client = RedisClient::Create(options, nullptr);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->description(), "redis master m (sentinels 127.0.0.1:1,127.0.0.1:2)");
  EXPECT_EQ((*client)->master_epoch(), 0u);
}

}  // namespace
}  // namespace genesis
