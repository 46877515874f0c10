// The P0 detector: what it must flag (with check digits where they exist)
// and what it must leave alone.
#include "services/llm_router/selection/pii.h"

#include <gtest/gtest.h>

namespace genesis::llmrouter {
namespace {

std::vector<std::string> Kinds(std::string_view text) {
  std::vector<std::string> kinds;
  for (const auto& m : DetectPii(text)) kinds.push_back(PiiKindName(m.kind));
  return kinds;
}

TEST(PiiTest, CpfWithValidCheckDigitsFormattedOrPlain) {
  EXPECT_TRUE(ValidCpf("52998224725"));
  EXPECT_FALSE(ValidCpf("52998224724"));
  EXPECT_FALSE(ValidCpf("11111111111"));
  EXPECT_EQ(Kinds("meu CPF é 529.982.247-25, ok?"), std::vector<std::string>{"cpf"});
  EXPECT_EQ(Kinds("cpf 52998224725"), std::vector<std::string>{"cpf"});
  // Wrong check digits: not a CPF (and not a phone: third digit is not 9).
  EXPECT_TRUE(ValidCpf("12345678909"));
  EXPECT_TRUE(Kinds("código 123.456.789-00").empty());
}

TEST(PiiTest, CnpjWithValidCheckDigits) {
  EXPECT_TRUE(ValidCnpj("11222333000181"));
  EXPECT_FALSE(ValidCnpj("11222333000182"));
  EXPECT_EQ(Kinds("CNPJ 11.222.333/0001-81"), std::vector<std::string>{"cnpj"});
}

TEST(PiiTest, CardNumbersPassLuhn) {
  EXPECT_TRUE(ValidLuhn("4111111111111111"));
  EXPECT_FALSE(ValidLuhn("4111111111111112"));
  EXPECT_EQ(Kinds("cartão 4111 1111 1111 1111 validade"), std::vector<std::string>{"card"});
  EXPECT_EQ(Kinds("cartão 4111-1111-1111-1111"), std::vector<std::string>{"card"});
  EXPECT_TRUE(Kinds("pedido 4111 1111 1111 1112").empty());
}

TEST(PiiTest, PhoneNumbers) {
  EXPECT_EQ(Kinds("ligue +55 (81) 99876-5432"), std::vector<std::string>{"phone"});
  EXPECT_EQ(Kinds("fixo (11) 3456-7890"), std::vector<std::string>{"phone"});
  EXPECT_EQ(Kinds("zap 81998765432"), std::vector<std::string>{"phone"});
  EXPECT_EQ(Kinds("call +1 415 555 2671"), std::vector<std::string>{"phone"});
}

TEST(PiiTest, EmailAddresses) {
  EXPECT_EQ(Kinds("escreva para maria.silva+vendas@empresa.com.br."),
            std::vector<std::string>{"email"});
  EXPECT_TRUE(Kinds("no arroba @ aqui, nem user@localhost").empty());
}

TEST(PiiTest, OrdinaryNumbersAreNotFlagged) {
  EXPECT_TRUE(Kinds("Em 2024-01-15 vendemos 1.234.567 unidades por R$ 3.500,00").empty());
  EXPECT_TRUE(Kinds("pedido ABC12345678901 e versão 1.2.3").empty());
  EXPECT_TRUE(Kinds("Quanto é 12345 vezes 678?").empty());
}

TEST(PiiTest, MaskReplacesEveryMatch) {
  EXPECT_EQ(MaskPii("CPF 529.982.247-25 e email a@b.com fim"), "CPF [cpf] e email [email] fim");
}

}  // namespace
}  // namespace genesis::llmrouter
