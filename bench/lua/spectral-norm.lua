-- spectral-norm: the largest singular value of an infinite matrix, by the power
-- method on an n x n section. Argument: n (default 1000).
local function a(i, j)
  local ij = i + j - 1
  return 1.0 / (ij * (ij - 1) * 0.5 + i)
end

local function times(x, n, out)
  for i = 1, n do
    local s = 0.0
    for j = 1, n do s = s + a(i, j) * x[j] end
    out[i] = s
  end
end

local function times_transposed(x, n, out)
  for i = 1, n do
    local s = 0.0
    for j = 1, n do s = s + a(j, i) * x[j] end
    out[i] = s
  end
end

local function ata_times(x, n, out, tmp)
  times(x, n, tmp)
  times_transposed(tmp, n, out)
end

local n = tonumber(arg and arg[1]) or 1000
local u, v, t = {}, {}, {}
for i = 1, n do u[i] = 1.0 end
for _ = 1, 10 do
  ata_times(u, n, v, t)
  ata_times(v, n, u, t)
end
local vbv, vv = 0.0, 0.0
for i = 1, n do
  local ui, vi = u[i], v[i]
  vbv = vbv + ui * vi
  vv = vv + vi * vi
end
print(string.format("%0.9f", math.sqrt(vbv / vv)))
