#include "run_config_json.hpp"

#include <trainscope/json_writer.hpp>

namespace gpt {

std::string build_run_config_json(const TrainOptions& o, int vocab_size, int threads) {
    trainscope::JsonWriter w;
    w.begin_object();
    w.key("name").string(o.name);
    w.key("dataset").string(o.data);
    w.key("vocab_size").integer(vocab_size);
    w.key("n_layer").integer(o.n_layer);
    w.key("n_head").integer(o.n_head);
    w.key("n_embd").integer(o.n_embd);
    w.key("block_size").integer(o.block_size);
    w.key("dropout").number(o.dropout);
    w.key("bias").boolean(false);
    w.key("batch_size").integer(o.batch_size);
    w.key("tokens_per_iter").integer(static_cast<long long>(o.batch_size) * o.block_size);
    w.key("max_iters").integer(o.max_iters);
    w.key("eval_interval").integer(o.eval_interval);
    w.key("eval_iters").integer(o.eval_iters);
    w.key("log_interval").integer(o.log_interval);
    w.key("learning_rate").number(o.learning_rate);
    w.key("min_lr").number(o.min_lr);
    w.key("warmup_iters").integer(o.warmup_iters);
    w.key("lr_decay_iters").integer(o.effective_lr_decay_iters());
    w.key("decay_lr").boolean(true);
    w.key("weight_decay").number(o.weight_decay);
    w.key("beta1").number(o.beta1);
    w.key("beta2").number(o.beta2);
    w.key("grad_clip").number(o.grad_clip);
    // The CLI keeps seeds below 2^53, so JavaScript readers see the exact value.
    w.key("seed").integer(static_cast<long long>(o.seed));
    w.key("threads").integer(threads);
    w.key("optimizer").string("AdamW");
    w.key("lr_schedule").string("cosine with linear warmup");
    w.end_object();
    return w.str();
}

}  // namespace gpt
