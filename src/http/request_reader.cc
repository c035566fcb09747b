#include "http/request_reader.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace nodeagent::http {
namespace bhttp = boost::beast::http;

RequestReader::Span RequestReader::Parser::store(std::string_view s) {
  Span span{static_cast<std::uint32_t>(r_.arena_.size()), static_cast<std::uint32_t>(s.size())};
  r_.arena_.append(s);
  return span;
}

void RequestReader::Parser::on_request_impl(bhttp::verb m, BeastView method_str, BeastView t, int v,
                                            boost::beast::error_code&) {
  method = m;
  if (m != bhttp::verb::unknown) {
    known_method = bhttp::to_string(m);
  } else {
    method_span = store(method_str);
  }
  target = store(t);
  version = v;
}

void RequestReader::Parser::on_response_impl(int, BeastView, int, boost::beast::error_code& ec) {
  ec = bhttp::error::bad_version;  // never called for a request parser
}

void RequestReader::Parser::on_field_impl(bhttp::field name, BeastView name_string, BeastView value,
                                          boost::beast::error_code& ec) {
  auto& fields = r_.field_refs_;
  if (fields.size() >= r_.max_fields_) {
    ec = bhttp::error::header_limit;
    return;
  }
  const int index = static_cast<int>(fields.size());
  if (name == bhttp::field::accept && accept_index < 0) accept_index = index;
  if (name == bhttp::field::user_agent && user_agent_index < 0) user_agent_index = index;
  if (name == bhttp::field::host && host_index < 0) host_index = index;
  FieldRef ref;
  ref.name = store(name_string);
  ref.value = store(value);
  fields.push_back(ref);
}

RequestReader::RequestReader(std::size_t header_bytes, std::size_t max_fields)
    : header_bytes_(header_bytes), max_fields_(max_fields) {}

bool RequestReader::started() const { return parser_ && parser_->got_some(); }

void RequestReader::reset() { parser_.reset(); }

RequestReader::Step RequestReader::put(std::string_view bytes) {
  if (!parser_) {
    arena_.clear();
    field_refs_.clear();
    parser_.emplace(*this);
    parser_->header_limit(static_cast<std::uint32_t>(header_bytes_));
    parser_->eager(false);
  }
  Step step;
  while (step.used < bytes.size()) {
    boost::beast::error_code ec;
    const std::size_t used =
        parser_->put(boost::asio::buffer(bytes.data() + step.used, bytes.size() - step.used), ec);
    step.used += used;
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      const bool too_large =
          ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
      step.status = too_large ? Status::kTooLarge : Status::kMalformed;
      step.error = ec;
      return step;
    }
    if (parser_->is_header_done()) {
      finish();
      step.status = Status::kDone;
      return step;
    }
    if (used == 0) break;
  }
  return step;
}

void RequestReader::finish() {
  const Parser& p = *parser_;
  auto view = [this](Span s) { return std::string_view(arena_).substr(s.offset, s.size); };
  fields_.clear();
  for (const auto& f : field_refs_) fields_.push_back({view(f.name), view(f.value)});

  Request& request = request_;
  request = Request{};
  request.method = p.method;
  request.method_string = p.method == bhttp::verb::unknown ? view(p.method_span) : p.known_method;
  request.target = view(p.target);
  if (p.accept_index >= 0) request.accept = fields_[p.accept_index].value;
  if (p.user_agent_index >= 0) request.user_agent = fields_[p.user_agent_index].value;
  if (p.host_index >= 0) request.host = fields_[p.host_index].value;
  request.keep_alive = p.keep_alive();
  request.version = static_cast<unsigned>(p.version);
  const auto length = p.content_length();
  request.has_body = p.chunked() || (length && *length > 0);
  request.headers = fields_;
}

}  // namespace nodeagent::http
