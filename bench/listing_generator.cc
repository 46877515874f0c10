#include "bench/listing_generator.h"

#include <algorithm>
#include <cmath>
#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace genesis::bench {
namespace {

using Rng = std::mt19937_64;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int Uniform(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(Uniform(rng, 0, static_cast<int>(v.size()) - 1))];
}

// Zipf-like: the i-th entry (0-based) has weight 1/(i+1).
class Zipf {
 public:
  explicit Zipf(size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) cumulative_.push_back(sum += 1.0 / static_cast<double>(i + 1));
  }
  size_t operator()(Rng& rng) const {
    double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
    return static_cast<size_t>(std::lower_bound(cumulative_.begin(), cumulative_.end(), x) -
                               cumulative_.begin());
  }

 private:
  std::vector<double> cumulative_;
};

// `count` distinct entries of `words`, Zipf-weighted.
std::vector<std::string> PickDistinct(Rng& rng, const std::vector<std::string>& words, int count) {
  static thread_local std::vector<std::pair<const std::vector<std::string>*, Zipf>> zipfs;
  const Zipf* zipf = nullptr;
  for (const auto& [list, z] : zipfs) {
    if (list == &words) zipf = &z;
  }
  if (zipf == nullptr) zipf = &zipfs.emplace_back(&words, Zipf(words.size())).second;
  std::vector<std::string> out;
  for (int tries = 0; static_cast<int>(out.size()) < count && tries < 50; ++tries) {
    const std::string& w = words[(*zipf)(rng)];
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items, absl::string_view last_sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, i + 1 == items.size() ? last_sep : ", ");
    absl::StrAppend(&out, items[i]);
  }
  return out;
}

std::string Thousands(int64_t v, char sep) {
  std::string digits = absl::StrCat(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return out;
}

std::string Capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

int WordCount(absl::string_view s) {
  int n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

struct City {
  std::string name;
  std::vector<std::string> neighborhoods;
  double price_per_m2;   // in the local currency
  std::string currency;  // as written before an amount
};

const std::vector<City>& PtCities() {
  static const auto* cities = new std::vector<City>{
      {"Recife",
       {"Boa Viagem", "Casa Forte", "Graças", "Espinheiro", "Pina", "Madalena", "Torre", "Aflitos",
        "Derby", "Boa Vista", "Parnamirim", "Jaqueira", "Rosarinho", "Tamarineira", "Setúbal",
        "Poço da Panela"},
       7200,
       "R$"},
      {"Olinda",
       {"Bairro Novo", "Casa Caiada", "Carmo", "Rio Doce", "Jardim Atlântico"},
       5100,
       "R$"},
      {"São Paulo",
       {"Moema", "Pinheiros", "Vila Madalena", "Itaim Bibi", "Jardins", "Perdizes", "Tatuapé",
        "Santana", "Vila Mariana", "Brooklin", "Higienópolis", "Mooca"},
       11500,
       "R$"},
      {"Rio de Janeiro",
       {"Copacabana", "Ipanema", "Leblon", "Botafogo", "Tijuca", "Barra da Tijuca", "Flamengo",
        "Laranjeiras", "Jardim Botânico", "Gávea", "Recreio"},
       10800,
       "R$"},
      {"Salvador",
       {"Barra", "Rio Vermelho", "Pituba", "Ondina", "Graça", "Caminho das Árvores"},
       6300,
       "R$"},
      {"Fortaleza", {"Meireles", "Aldeota", "Praia de Iracema", "Cocó", "Mucuripe"}, 6700, "R$"},
      {"Curitiba", {"Batel", "Água Verde", "Bigorrilho", "Cabral", "Ecoville"}, 8100, "R$"},
      {"Belo Horizonte",
       {"Savassi", "Lourdes", "Funcionários", "Sion", "Belvedere", "Pampulha"},
       8600,
       "R$"},
      {"Lisboa",
       {"Alfama", "Baixa", "Chiado", "Campo de Ourique", "Alvalade", "Parque das Nações", "Estrela",
        "Graça", "Benfica"},
       5600,
       "€"},
      {"Porto",
       {"Foz do Douro", "Boavista", "Cedofeita", "Bonfim", "Ribeira", "Paranhos"},
       3900,
       "€"},
  };
  return *cities;
}

const std::vector<City>& EnCities() {
  static const auto* cities = new std::vector<City>{
      {"London",
       {"Camden", "Islington", "Hackney", "Chelsea", "Notting Hill", "Greenwich", "Brixton",
        "Shoreditch", "Hampstead"},
       11800,
       "£"},
      {"New York",
       {"Brooklyn Heights", "Harlem", "Chelsea", "Astoria", "Williamsburg", "Upper West Side",
        "Tribeca", "Park Slope"},
       14200,
       "$"},
      {"Boston",
       {"Back Bay", "Beacon Hill", "South End", "Jamaica Plain", "Charlestown"},
       9400,
       "$"},
      {"Lisbon", {"Alfama", "Chiado", "Príncipe Real", "Belém", "Campo de Ourique"}, 5600, "€"},
      {"Rio de Janeiro",
       {"Copacabana", "Ipanema", "Leblon", "Botafogo", "Santa Teresa"},
       10800,
       "R$"},
      {"São Paulo", {"Jardins", "Pinheiros", "Vila Madalena", "Itaim Bibi"}, 11500, "R$"},
  };
  return *cities;
}

// ---- Portuguese ---------------------------------------------------------------

struct PtKind {
  std::string name;  // lower case, as in a sentence
  bool feminine;
  bool studio;    // one room: no "N quartos"
  bool building;  // a unit in a building (floors, lifts), not a house
};

const std::vector<PtKind>& PtKinds() {
  static const auto* kinds = new std::vector<PtKind>{
      {"apartamento", false, false, true}, {"apartamento", false, false, true},
      {"apartamento", false, false, true}, {"apartamento", false, false, true},
      {"casa", true, false, false},        {"casa", true, false, false},
      {"cobertura", true, false, true},    {"flat", false, true, true},
      {"studio", false, true, true},       {"kitnet", true, true, true},
      {"sobrado", false, false, false},    {"casa de praia", true, false, false},
      {"loft", false, true, true},         {"casa em condomínio", true, false, false},
      {"chácara", true, false, false},
  };
  return *kinds;
}

// Adjectives as {masculine, feminine}.
const std::vector<std::pair<std::string, std::string>>& PtAdjectives() {
  static const auto* adjs = new std::vector<std::pair<std::string, std::string>>{
      {"amplo", "ampla"},
      {"reformado", "reformada"},
      {"mobiliado", "mobiliada"},
      {"novo", "nova"},
      {"iluminado", "iluminada"},
      {"ventilado", "ventilada"},
      {"aconchegante", "aconchegante"},
      {"espaçoso", "espaçosa"},
      {"moderno", "moderna"},
      {"charmoso", "charmosa"},
      {"nascente", "nascente"},
      {"decorado", "decorada"},
      {"silencioso", "silenciosa"},
      {"confortável", "confortável"},
      {"bem localizado", "bem localizada"},
  };
  return *adjs;
}

const std::vector<std::string>& PtAmenities() {  // most common first
  static const auto* v = new std::vector<std::string>{"piscina",
                                                      "salão de festas",
                                                      "academia",
                                                      "playground",
                                                      "churrasqueira",
                                                      "portaria 24 horas",
                                                      "área de lazer completa",
                                                      "quadra poliesportiva",
                                                      "espaço gourmet",
                                                      "sauna",
                                                      "brinquedoteca",
                                                      "espaço pet",
                                                      "bicicletário",
                                                      "lavanderia coletiva",
                                                      "coworking",
                                                      "salão de jogos",
                                                      "piscina aquecida",
                                                      "quadra de tênis",
                                                      "cinema",
                                                      "spa",
                                                      "espaço zen",
                                                      "pista de cooper",
                                                      "redário",
                                                      "horta comunitária",
                                                      "deck molhado",
                                                      "minimercado",
                                                      "lounge",
                                                      "lava-rápido",
                                                      "quadra de areia",
                                                      "sala de massagem"};
  return *v;
}

const std::vector<std::string>& PtHouseExtras() {  // houses outside a condomínio
  static const auto* v = new std::vector<std::string>{
      "piscina",        "churrasqueira",     "quintal",        "jardim",
      "espaço gourmet", "edícula",           "horta",          "área de serviço",
      "canil",          "portão eletrônico", "cerca elétrica", "poço artesiano"};
  return *v;
}

const std::vector<std::string>& PtFeatures() {
  static const auto* v = new std::vector<std::string>{"armários planejados",
                                                      "piso porcelanato",
                                                      "varanda gourmet",
                                                      "ar-condicionado split",
                                                      "cozinha americana",
                                                      "aquecimento solar",
                                                      "janelas antirruído",
                                                      "closet",
                                                      "gás encanado",
                                                      "dependência completa de empregada",
                                                      "banheira de hidromassagem",
                                                      "home office",
                                                      "depósito privativo",
                                                      "lavabo",
                                                      "jardim de inverno",
                                                      "pé-direito duplo",
                                                      "fechadura eletrônica",
                                                      "energia solar",
                                                      "piso de madeira",
                                                      "tomadas USB",
                                                      "quintal gramado",
                                                      "edícula"};
  return *v;
}

const std::vector<std::string>& PtLandmarks() {
  static const auto* v = new std::vector<std::string>{
      "da praia",     "do metrô",         "do shopping",          "do parque",
      "de escolas",   "de supermercados", "de hospitais",         "da universidade",
      "do centro",    "de padarias",      "da avenida principal", "de restaurantes",
      "do aeroporto", "da ciclovia",      "de farmácias",         "do mercado público"};
  return *v;
}

const std::vector<std::string>& PtTitleExtras() {
  static const auto* v = new std::vector<std::string>{
      "varanda gourmet",    "piscina privativa", "vista para o mar", "duas vagas",
      "área de lazer",      "quintal",           "jardim",           "terraço",
      "elevador privativo", "vista definitiva",  "suíte master"};
  return *v;
}

const std::vector<std::string>& PtViews() {
  static const auto* v =
      new std::vector<std::string>{"para o mar", "para o rio",           "para o parque",
                                   "livre",      "panorâmica da cidade", "para as montanhas"};
  return *v;
}

// {name, feminine}
const std::vector<std::pair<std::string, bool>>& PtNames() {
  static const auto* v = new std::vector<std::pair<std::string, bool>>{
      {"Ana", true},      {"Bruno", false},   {"Carla", true},   {"Diego", false},
      {"Fernanda", true}, {"Gustavo", false}, {"Juliana", true}, {"Marcelo", false},
      {"Patrícia", true}, {"Rafael", false},  {"Tatiana", true}, {"Vinícius", false},
      {"Luíza", true},    {"João", false},    {"Beatriz", true}, {"Rodrigo", false}};
  return *v;
}

// About 1 item in 10,000 mentions one of these (or of kRareEn).
const std::vector<std::string>& PtRare() {
  static const auto* v = new std::vector<std::string>{
      "heliponto",         "ofurô",         "observatório", "vinhedo",  "pomar",
      "estábulo",          "capela",        "mirante",      "cisterna", "sótão",
      "adega climatizada", "piano de cauda"};
  return *v;
}

const std::vector<std::string>& PtClosings() {
  static const auto* v = new std::vector<std::string>{
      "Aceita financiamento bancário e FGTS.",
      "Documentação em dia, pronto para morar.",
      "Aceita permuta por imóvel de menor valor na mesma região.",
      "Não perca esta oportunidade, imóveis como este saem rápido!",
      "Ótima opção para famílias que buscam conforto, segurança e praticidade no dia a dia.",
      "Ideal para quem trabalha em home office e precisa de um ambiente tranquilo.",
      "Rua tranquila, arborizada e com comércio variado nas proximidades.",
      "Excelente investimento, com boa procura para locação por temporada.",
      "Imóvel desocupado, chaves disponíveis na imobiliária.",
      "Prédio bem conservado, com manutenção em dia e baixo custo de condomínio."};
  return *v;
}

// ---- English ------------------------------------------------------------------

struct EnKind {
  std::string name;
  bool studio;
  bool building;
};

const std::vector<EnKind>& EnKinds() {
  static const auto* kinds = new std::vector<EnKind>{
      {"apartment", false, true}, {"apartment", false, true},  {"apartment", false, true},
      {"house", false, false},    {"house", false, false},     {"penthouse", false, true},
      {"studio", true, true},     {"townhouse", false, false}, {"loft", true, true},
      {"condo", false, true},     {"cottage", false, false},   {"duplex", false, true}};
  return *kinds;
}

const std::vector<std::string>& EnAdjectives() {
  static const auto* v = new std::vector<std::string>{
      "spacious", "renovated", "furnished", "bright",      "cozy",    "modern", "charming",
      "quiet",    "sunny",     "elegant",   "newly built", "stylish", "airy",   "well-kept"};
  return *v;
}

const std::vector<std::string>& EnAmenities() {
  static const auto* v = new std::vector<std::string>{"a swimming pool",   "a gym",
                                                      "a party room",      "a playground",
                                                      "a barbecue area",   "a 24-hour concierge",
                                                      "a rooftop terrace", "a tennis court",
                                                      "a sauna",           "bike storage",
                                                      "a laundry room",    "a coworking space",
                                                      "a game room",       "a heated pool",
                                                      "a dog park",        "a yoga studio",
                                                      "a movie theater",   "a spa",
                                                      "a jogging track",   "a community garden",
                                                      "package lockers",   "EV charging",
                                                      "a golf simulator",  "a wine lounge"};
  return *v;
}

const std::vector<std::string>& EnFeatures() {
  static const auto* v = new std::vector<std::string>{"hardwood floors",
                                                      "built-in wardrobes",
                                                      "granite countertops",
                                                      "stainless steel appliances",
                                                      "central air conditioning",
                                                      "an in-unit washer and dryer",
                                                      "a walk-in closet",
                                                      "double-glazed windows",
                                                      "a private balcony",
                                                      "a fireplace",
                                                      "a smart thermostat",
                                                      "a home office",
                                                      "a storage unit",
                                                      "high ceilings",
                                                      "underfloor heating",
                                                      "skylights",
                                                      "a marble bathroom",
                                                      "a breakfast bar",
                                                      "solar panels",
                                                      "soundproof windows"};
  return *v;
}

const std::vector<std::string>& EnLandmarks() {
  static const auto* v = new std::vector<std::string>{
      "the beach",    "the subway",   "the mall",        "the park",
      "good schools", "supermarkets", "the hospital",    "the university",
      "downtown",     "bakeries",     "the main avenue", "restaurants",
      "the airport",  "bike lanes",   "the river",       "the farmers market"};
  return *v;
}

const std::vector<std::string>& EnTitleExtras() {
  static const auto* v = new std::vector<std::string>{
      "balcony",         "private pool", "ocean view", "two parking spaces", "garden",
      "rooftop terrace", "city views",   "fireplace",  "home office",        "open kitchen"};
  return *v;
}

const std::vector<std::string>& EnViews() {
  static const auto* v =
      new std::vector<std::string>{"an ocean view", "a river view",          "park views",
                                   "open views",    "a panoramic city view", "mountain views"};
  return *v;
}

const std::vector<std::string>& EnNames() {
  static const auto* v =
      new std::vector<std::string>{"Emma",   "James", "Olivia", "Michael", "Sophia",
                                   "Daniel", "Grace", "Thomas", "Chloe",   "Henry"};
  return *v;
}

const std::vector<std::string>& EnRare() {
  static const auto* v = new std::vector<std::string>{
      "helipad",    "observatory", "vineyard",     "orchard",   "stable",      "chapel",
      "greenhouse", "attic",       "conservatory", "boathouse", "wine cellar", "grand piano"};
  return *v;
}

const std::vector<std::string>& EnClosings() {
  static const auto* v = new std::vector<std::string>{
      "Pets are welcome.",
      "Available immediately, keys at the agency.",
      "Perfect for families looking for comfort and convenience.",
      "Ideal for remote work, with plenty of natural light throughout the day.",
      "Quiet tree-lined street with shops and cafés nearby.",
      "Don't miss this opportunity, homes like this sell fast!",
      "A great investment with strong demand for short-term rentals.",
      "Well-maintained building with low monthly fees.",
      "Recently updated plumbing and electrical systems.",
      "Flexible lease terms are available for the right tenant."};
  return *v;
}

int PickBedrooms(Rng& rng) {
  thread_local std::discrete_distribution<int> d({15, 35, 32, 13, 5});
  return d(rng) + 1;
}

struct Common {
  const City* city;
  std::string neighborhood;
  int bedrooms;
  int area_m2;
  bool rent;
  int64_t price;  // sale price, or monthly rent
};

Common MakeCommon(Rng& rng, const std::vector<City>& cities, bool studio) {
  Common c;
  c.city = &Pick(rng, cities);
  c.neighborhood = Pick(rng, c.city->neighborhoods);
  c.bedrooms = studio ? 1 : PickBedrooms(rng);
  c.area_m2 = (studio ? 28 : 30 + 24 * c.bedrooms) + Uniform(rng, -8, 25);
  c.rent = Chance(rng, 0.4);
  const double factor = std::uniform_real_distribution<double>(0.7, 1.4)(rng);
  const double sale = c.city->price_per_m2 * c.area_m2 * factor;
  c.price = c.rent ? static_cast<int64_t>(std::round(sale * 0.0045 / 10) * 10)
                   : static_cast<int64_t>(std::round(sale / 1000) * 1000);
  return c;
}

// Sentences in random order after the first, stopping between 40 and 120 words.
std::string Compose(Rng& rng, const std::string& first, std::vector<std::string> rest,
                    std::vector<std::string> closings) {
  std::shuffle(rest.begin(), rest.end(), rng);
  std::shuffle(closings.begin(), closings.end(), rng);
  rest.insert(rest.end(), closings.begin(), closings.end());
  const int target = Uniform(rng, 40, 120);
  std::string body = first;
  int words = WordCount(first);
  for (const auto& s : rest) {
    if (words >= target) break;
    const int n = WordCount(s);
    if (words >= 40 && words + n > 120) break;
    absl::StrAppend(&body, " ", s);
    words += n;
  }
  return body;
}

catalog::Item MakePortuguese(Rng& rng) {
  const PtKind& kind = Pick(rng, PtKinds());
  const Common c = MakeCommon(rng, PtCities(), kind.studio);
  auto adj = [&] {
    const auto& a = Pick(rng, PtAdjectives());
    return kind.feminine ? a.second : a.first;
  };
  const std::string rooms = c.bedrooms == 1 ? "1 quarto" : absl::StrCat(c.bedrooms, " quartos");
  const std::string deal = c.rent ? "para alugar" : "à venda";

  std::string title;
  switch (Uniform(rng, 0, kind.studio ? 3 : 5)) {
    case 0:
      title = absl::StrCat(Capitalize(kind.name), " ", adj(), " ", deal, " em ", c.neighborhood);
      break;
    case 1:
      title = absl::StrCat(Capitalize(kind.name), " ", adj(), " com ", Pick(rng, PtTitleExtras()),
                           " em ", c.neighborhood, ", ", c.city->name);
      break;
    case 2:
      title = absl::StrCat(c.rent ? "Alugo " : "Vendo ", kind.name, " ", adj(), " perto ",
                           Pick(rng, PtLandmarks()));
      break;
    case 3:
      title = absl::StrCat(Capitalize(kind.name), " com ", Pick(rng, PtTitleExtras()), " em ",
                           c.neighborhood);
      break;
    case 4:
      title = absl::StrCat(Capitalize(kind.name), " ", rooms, " em ", c.neighborhood);
      break;
    default:
      title = absl::StrCat(Capitalize(kind.name), " ", adj(), " com ", rooms, " em ",
                           c.neighborhood, ", ", c.city->name);
      break;
  }

  const int suites = std::max(1, c.bedrooms - Uniform(rng, 0, 2));
  std::string first;
  if (kind.studio) {
    first = absl::StrCat(
        Capitalize(kind.name), " ", adj(), " ", deal, ", com ambiente integrado, ", "cozinha ",
        Pick(rng, std::vector<std::string>{"americana", "compacta", "equipada"}), " e banheiro ",
        Pick(rng, std::vector<std::string>{"reformado", "amplo", "social"}), ".");
  } else {
    first = absl::StrCat(
        Capitalize(kind.name), " ", adj(), " ", deal, " com ", rooms, ", sendo ", suites,
        suites == 1 ? " suíte" : " suítes", ", sala para ", Uniform(rng, 2, 3),
        " ambientes e cozinha ",
        Pick(rng, std::vector<std::string>{"ampla", "planejada", "americana", "equipada"}), ".");
  }
  const int parking = kind.studio ? Uniform(rng, 0, 1) : Uniform(rng, 1, 3);
  const auto& agent = Pick(rng, PtNames());
  const bool condo = kind.building || kind.name == "casa em condomínio";
  const int64_t fee = c.area_m2 * Uniform(rng, 6, 16);  // condomínio per month
  std::vector<std::string> rest = {
      absl::StrCat("Área privativa de ", c.area_m2, " m²",
                   parking == 0
                       ? " e sem vaga de garagem."
                       : absl::StrCat(" com ", parking, parking == 1 ? " vaga" : " vagas",
                                      " de garagem", Chance(rng, 0.5) ? " coberta." : ".")),
      absl::StrCat("Localizado em ", c.neighborhood, ", ", c.city->name, ", a poucos minutos ",
                   JoinList(PickDistinct(rng, PtLandmarks(), 3), " e "), "."),
      condo
          ? absl::StrCat("O condomínio oferece ",
                         JoinList(PickDistinct(rng, PtAmenities(), Uniform(rng, 3, 6)), " e "), ".")
          : absl::StrCat("A casa tem ",
                         JoinList(PickDistinct(rng, PtHouseExtras(), Uniform(rng, 2, 4)), " e "),
                         "."),
      c.rent
          ? absl::StrCat(
                "Aluguel de ", c.city->currency, " ", Thousands(c.price, '.'), " por mês",
                condo ? absl::StrCat(", condomínio de ", c.city->currency, " ", Thousands(fee, '.'))
                      : std::string(),
                " e IPTU incluso.")
          : absl::StrCat("Valor de venda: ", c.city->currency, " ", Thousands(c.price, '.'), ".",
                         condo ? absl::StrCat(" Condomínio de ", c.city->currency, " ",
                                              Thousands(fee, '.'), ".")
                               : std::string(),
                         " IPTU de ", c.city->currency, " ",
                         Thousands(c.area_m2 * Uniform(rng, 15, 40), '.'), " por ano."),
      absl::StrCat("O imóvel conta com ",
                   JoinList(PickDistinct(rng, PtFeatures(), Uniform(rng, 2, 4)), " e "), "."),
      absl::StrCat("Agende sua visita com ", agent.first, ", ",
                   agent.second ? "corretora" : "corretor", " responsável pelo imóvel."),
  };
  if (kind.building) {
    const int lifts = Uniform(rng, 1, 4);
    rest.push_back(absl::StrCat(
        "Andar ", Pick(rng, std::vector<std::string>{"alto", "intermediário", "baixo"}), ", ",
        Pick(rng, std::vector<std::string>{"nascente", "poente"}), ", muito ",
        Pick(rng, std::vector<std::string>{"ventilado", "iluminado", "silencioso"}),
        " e com vista ", Pick(rng, PtViews()), "."));
    rest.push_back(absl::StrCat("Prédio com ", lifts, lifts == 1 ? " elevador" : " elevadores",
                                ", portaria 24 horas e câmeras de segurança."));
  } else {
    rest.push_back(
        absl::StrCat("Terreno de ", c.area_m2 * Uniform(rng, 2, 5), " m² com ",
                     Pick(rng, std::vector<std::string>{"quintal amplo", "jardim", "área verde",
                                                        "varanda em volta da casa"}),
                     " e vista ", Pick(rng, PtViews()), "."));
  }
  if (Chance(rng, 0.0012)) {
    rest.insert(rest.begin(), absl::StrCat("Possui ainda ", Pick(rng, PtRare()),
                                           ", um diferencial raro na região."));
  }
  std::vector<std::string> closings;
  for (const auto& s : PickDistinct(rng, PtClosings(), 3)) closings.push_back(s);

  catalog::Item item;
  item.title = std::move(title);
  item.body = Compose(rng, first, std::move(rest), std::move(closings));
  item.attributes = {{"city", c.city->name},
                     {"neighborhood", c.neighborhood},
                     {"price", c.price},
                     {"bedrooms", c.bedrooms},
                     {"area_m2", c.area_m2}};
  item.labels = {{"lang", "pt"}, {"deal", c.rent ? "rent" : "sale"}, {"source", "bench"}};
  return item;
}

catalog::Item MakeEnglish(Rng& rng) {
  const EnKind& kind = Pick(rng, EnKinds());
  const Common c = MakeCommon(rng, EnCities(), kind.studio);
  const std::string deal = c.rent ? "for rent" : "for sale";
  std::string title;
  switch (Uniform(rng, 0, kind.studio ? 2 : 4)) {
    case 0:
      title = absl::StrCat(Capitalize(Pick(rng, EnAdjectives())), " ", kind.name, " ", deal, " in ",
                           c.neighborhood);
      break;
    case 1:
      title = absl::StrCat(Capitalize(Pick(rng, EnAdjectives())), " ", kind.name, " with ",
                           Pick(rng, EnTitleExtras()), " in ", c.neighborhood, ", ", c.city->name);
      break;
    case 2:
      title = absl::StrCat(Capitalize(kind.name), " near ", Pick(rng, EnLandmarks()), " in ",
                           c.neighborhood);
      break;
    case 3:
      title = absl::StrCat(c.bedrooms, "-bedroom ", kind.name, " in ", c.neighborhood);
      break;
    default:
      title = absl::StrCat(Capitalize(Pick(rng, EnAdjectives())), " ", c.bedrooms, "-bed ",
                           kind.name, " with ", Pick(rng, EnTitleExtras()));
      break;
  }
  const int baths = std::max(1, c.bedrooms - Uniform(rng, 0, 1));
  std::string first =
      kind.studio
          ? absl::StrCat("This ", Pick(rng, EnAdjectives()), " ", kind.name, " ", deal,
                         " offers an open-plan living and sleeping area, a compact kitchen and a ",
                         Pick(rng, std::vector<std::string>{"renovated", "modern", "spacious"}),
                         " bathroom.")
          : absl::StrCat(
                "This ", Pick(rng, EnAdjectives()), " ", kind.name, " ", deal, " offers ",
                c.bedrooms, c.bedrooms == 1 ? " bedroom, " : " bedrooms, ", baths,
                baths == 1 ? " bathroom" : " bathrooms", " and an open-plan living area with a ",
                Pick(rng,
                     std::vector<std::string>{"modern", "fully equipped", "spacious", "renovated"}),
                " kitchen.");
  const int parking = Uniform(rng, 0, 2);
  const int sqft = static_cast<int>(c.area_m2 * 10.764);
  std::vector<std::string> rest = {
      absl::StrCat("Interior space of ", Thousands(sqft, ','), " sq ft (", c.area_m2, " m²) with ",
                   parking == 0   ? "street parking only."
                   : parking == 1 ? "one parking space."
                                  : "two parking spaces."),
      absl::StrCat("Located in ", c.neighborhood, ", ", c.city->name, ", just minutes from ",
                   JoinList(PickDistinct(rng, EnLandmarks(), 3), " and "), "."),
      absl::StrCat(kind.building ? "Building amenities include " : "The community offers ",
                   JoinList(PickDistinct(rng, EnAmenities(), Uniform(rng, 3, 6)), " and "), "."),
      absl::StrCat("Features include ",
                   JoinList(PickDistinct(rng, EnFeatures(), Uniform(rng, 2, 4)), " and "), "."),
      c.rent ? absl::StrCat("Rent: ", c.city->currency, Thousands(c.price, ','),
                            " per month, utilities not included.")
             : absl::StrCat("Asking price: ", c.city->currency, Thousands(c.price, ','),
                            ". Monthly fees: ", c.city->currency,
                            Thousands(c.area_m2 * Uniform(rng, 3, 9), ','), "."),
      absl::StrCat("Schedule a viewing with ", Pick(rng, EnNames()), ", the listing agent, today."),
  };
  if (kind.building) {
    rest.push_back(
        absl::StrCat(Capitalize(Pick(rng, std::vector<std::string>{"high", "middle", "low"})),
                     " floor unit facing ",
                     Pick(rng, std::vector<std::string>{"east", "west", "south", "north"}),
                     ", with ", Pick(rng, EnViews()), "."));
  } else {
    rest.push_back(absl::StrCat(
        "The lot of ", Thousands(sqft * Uniform(rng, 2, 5), ','), " sq ft has a ",
        Pick(rng, std::vector<std::string>{"private garden", "backyard", "front porch", "patio"}),
        " and ", Pick(rng, EnViews()), "."));
  }
  if (Chance(rng, 0.0012)) {
    rest.insert(rest.begin(),
                absl::StrCat("It also has a ", Pick(rng, EnRare()), ", a rare find in the area."));
  }
  std::vector<std::string> closings;
  for (const auto& s : PickDistinct(rng, EnClosings(), 3)) closings.push_back(s);

  catalog::Item item;
  item.title = std::move(title);
  item.body = Compose(rng, first, std::move(rest), std::move(closings));
  item.attributes = {{"city", c.city->name},
                     {"neighborhood", c.neighborhood},
                     {"price", c.price},
                     {"bedrooms", c.bedrooms},
                     {"area_m2", c.area_m2}};
  item.labels = {{"lang", "en"}, {"deal", c.rent ? "rent" : "sale"}, {"source", "bench"}};
  return item;
}

}  // namespace

std::string BenchItemId(int64_t index) { return absl::StrFormat("bench-%08d", index); }

catalog::ItemType BenchItemType(const std::string& display_name) {
  using K = catalog::AttributeKind;
  catalog::ItemType t;
  t.id = kBenchTypeId;
  t.display_name = display_name;
  t.attributes = {
      {"city", K::kString, true, "City of the property."},
      {"neighborhood", K::kString, false, "Neighborhood."},
      {"price", K::kNumber, true, "Sale price, or monthly rent, in the local currency."},
      {"bedrooms", K::kNumber, false, "Number of bedrooms."},
      {"area_m2", K::kNumber, false, "Private area in square metres."}};
  return t;
}

catalog::Item ListingGenerator::Make(int64_t index) const {
  Rng rng(SplitMix(seed_ ^ SplitMix(static_cast<uint64_t>(index))));
  catalog::Item item = Chance(rng, 0.7) ? MakePortuguese(rng) : MakeEnglish(rng);
  item.id = BenchItemId(index);
  item.type_id = kBenchTypeId;
  return item;
}

}  // namespace genesis::bench
