// The standard containers with many elements: vector, map, unordered_map, string,
// deque, list; a checksum printed. Run under rum-run every node lives in RUM.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

int main(int argc, char **argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  std::vector<uint64_t> v;
  for (long i = 0; i < n; i++) v.push_back((uint64_t)i * 2654435761u % 1000003u);
  std::map<uint64_t, std::string> m;
  for (long i = 0; i < n; i++) m[v[i]] = std::to_string(i) + std::string(i % 23, 'q');
  std::unordered_map<std::string, long> u;
  for (auto &kv : m) u[kv.second] = (long)kv.first;
  std::deque<long> dq;
  std::list<long> ls;
  for (long i = 0; i < n; i++) {
    dq.push_front(i);
    ls.push_back(i * 3);
  }
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t x) { h = (h ^ x) * 1099511628211ull; };
  for (auto &kv : m) {
    mix(kv.first);
    for (char c : kv.second) mix((uint64_t)c);
  }
  long usum = 0;
  for (auto &kv : u) usum += kv.second % 1000;
  for (long x : dq) mix((uint64_t)x);
  for (long x : ls) mix((uint64_t)x);
  std::printf("%zu %zu %ld %zu %zu %016llx\n", v.size(), m.size(), usum, dq.size(), ls.size(), (unsigned long long)h);
  return 0;
}
