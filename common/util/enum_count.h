// The number of values of an enum that ends in kCount_, for the arrays it indexes: an array sized
// kCount<E> grows with the enum, so a new value can never index past its end.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

namespace dmux::util {

template <class E>
concept CountedEnum = std::is_enum_v<E> && requires {
  E::kCount_;
};

template <CountedEnum E>
inline constexpr std::size_t kCount = static_cast<std::size_t>(E::kCount_);

// An array with one element per value of E, indexed by index(e).
template <class T, CountedEnum E>
using EnumArray = std::array<T, kCount<E>>;

template <CountedEnum E>
[[nodiscard]] constexpr std::size_t index(E e) noexcept {
  return static_cast<std::size_t>(e);
}

}  // namespace dmux::util
