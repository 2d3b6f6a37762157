# Two test hosts (network namespaces) on a veth pair, DPDK on one side and the kernel's
# UDP on the other (dpdk_netns.sh): three rumd on dpdk/net_af_packet against a
# kernel-UDP mem_test, and three kernel-UDP rumd against a dpdk/af_packet mem_test;
# each also with 10% loss from iptables on the kernel side. Need root and `ip netns`
# (else skipped, 77). Ports 20300-20399.
if(RUM_HAVE_DPDK AND TARGET rumd AND TARGET mem_test)
  set(RUM_NETNS_DPDK ${CMAKE_CURRENT_LIST_DIR}/dpdk_netns.sh)
  set(port 20300)
  foreach(case dpdk-nodes dpdk-client)
    string(REPLACE "-" "_" name ${case})
    foreach(variant plain loss)
      set(test_name netns.${name})
      set(extra)
      if(variant STREQUAL "loss")
        set(test_name netns.${name}.loss)
        set(extra --loss)
      endif()
      add_test(NAME ${test_name}
               COMMAND bash ${RUM_NETNS_DPDK} ${case} ${CMAKE_BINARY_DIR}/bin ${port} ${extra})
      set_tests_properties(${test_name} PROPERTIES TIMEOUT 90 SKIP_RETURN_CODE 77
                           LABELS "netns;dpdk" RESOURCE_LOCK rum_dpdk)
      math(EXPR port "${port} + 10")
    endforeach()
  endforeach()
endif()
