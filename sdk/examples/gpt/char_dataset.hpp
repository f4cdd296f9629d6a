// A text file as a character-level dataset: vocabulary, encoding, 90/10 train/val split,
// and random batches of contiguous windows (nanoGPT's get_batch).
#pragma once

#include <string>
#include <vector>

#include "batch.hpp"
#include "rng.hpp"

namespace gpt {

class CharDataset {
public:
    /// Reads `path`; throws std::runtime_error saying what is wrong with the file.
    static CharDataset from_file(const std::string& path);
    /// Builds the dataset from text in memory; throws std::runtime_error if it is empty.
    static CharDataset from_text(const std::string& text);

    /// Distinct bytes of the text, sorted: token i is chars()[i].
    const std::string& chars() const { return chars_; }
    int vocab_size() const { return static_cast<int>(chars_.size()); }
    std::size_t size() const { return train_.size() + val_.size(); }

    /// First 90% of the encoded text.
    const std::vector<int>& train() const { return train_; }
    /// Last 10%.
    const std::vector<int>& val() const { return val_; }

    std::string decode(const std::vector<int>& tokens) const;

private:
    std::string chars_;
    std::vector<int> train_, val_;
};

/// batch_size windows of seq_len + 1 tokens at uniform random offsets of `split`.
/// The split must hold more than seq_len tokens.
Batch sample_batch(const std::vector<int>& split, int batch_size, int seq_len, Rng& rng);

}  // namespace gpt
