#include "char_dataset.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gpt {

CharDataset CharDataset::from_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw std::runtime_error("'" + path + "' is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open data file '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw std::runtime_error("cannot read data file '" + path + "'");
    try {
        return from_text(text.str());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error("data file '" + path + "': " + e.what());
    }
}

CharDataset CharDataset::from_text(const std::string& text) {
    if (text.empty()) throw std::runtime_error("the text is empty");
    std::array<int, 256> id{};
    id.fill(-1);
    for (unsigned char c : text) id[c] = 0;
    CharDataset d;
    for (int c = 0; c < 256; ++c)
        if (id[c] == 0) {
            id[c] = static_cast<int>(d.chars_.size());
            d.chars_.push_back(static_cast<char>(c));
        }
    const std::size_t n_train = text.size() * 9 / 10;
    d.train_.reserve(n_train);
    d.val_.reserve(text.size() - n_train);
    for (std::size_t i = 0; i < text.size(); ++i)
        (i < n_train ? d.train_ : d.val_).push_back(id[static_cast<unsigned char>(text[i])]);
    return d;
}

std::string CharDataset::decode(const std::vector<int>& tokens) const {
    std::string s;
    s.reserve(tokens.size());
    for (int t : tokens) s.push_back(chars_.at(t));
    return s;
}

Batch sample_batch(const std::vector<int>& split, int batch_size, int seq_len, Rng& rng) {
    if (split.size() <= static_cast<std::size_t>(seq_len))
        throw std::invalid_argument("split is too short for the sequence length");
    Batch b;
    b.batch_size = batch_size;
    b.seq_len = seq_len;
    b.tokens.resize(static_cast<std::size_t>(batch_size) * seq_len);
    b.targets.resize(b.tokens.size());
    const std::uint64_t n_starts = split.size() - seq_len;
    for (int i = 0; i < batch_size; ++i) {
        const std::size_t start = rng.uniform_int(n_starts);
        for (int t = 0; t < seq_len; ++t) {
            b.tokens[static_cast<std::size_t>(i) * seq_len + t] = split[start + t];
            b.targets[static_cast<std::size_t>(i) * seq_len + t] = split[start + t + 1];
        }
    }
    return b;
}

}  // namespace gpt
