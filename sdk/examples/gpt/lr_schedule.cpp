#include "lr_schedule.hpp"

#include <cmath>

namespace gpt {

double get_lr(int it, const LrSchedule& s) {
    if (it < s.warmup_iters) return s.learning_rate * (it + 1) / (s.warmup_iters + 1);
    // A decay window of zero length (lr_decay_iters <= warmup_iters) means "go straight to min".
    if (it > s.lr_decay_iters || s.lr_decay_iters <= s.warmup_iters) return s.min_lr;
    const double ratio =
        static_cast<double>(it - s.warmup_iters) / (s.lr_decay_iters - s.warmup_iters);
    const double coeff = 0.5 * (1.0 + std::cos(3.14159265358979323846 * ratio));
    return s.min_lr + coeff * (s.learning_rate - s.min_lr);
}

}  // namespace gpt
